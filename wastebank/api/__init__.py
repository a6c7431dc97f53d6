"""JSON API v1 (docs/rules.md §api), built with flask-smorest: the marshmallow schemas in
``schemas.py`` validate requests and generate the OpenAPI 3 document at ``/api/v1/openapi.json``.

Endpoints (``views.py``): ``POST /api/v1/deposits``, ``POST /api/v1/withdrawals``,
``POST /api/v1/deposits/<id>/void``, ``POST /api/v1/withdrawals/<id>/void``,
``GET /api/v1/members/<member_no>``, ``GET /api/v1/prices``. Errors (``errors.py``):
``{"error": {"code", "message", "field"}}``.

``api`` is the package's flask-smorest Api object (``WastebankApi``: the error schema of
``errors.py``); ``create_app`` binds it with :func:`init_app`.
"""
from __future__ import annotations

from .errors import WastebankApi

api = WastebankApi()


def init_app(app) -> None:
    """Bind ``api`` to ``app`` (the OpenAPI document and its blueprint) and register the v1
    blueprint (:func:`register`)."""
    api.init_app(app)
    register(app)


def register(app) -> None:
    """Register the API blueprint at ``/api/v1`` on ``app`` (after ``api.init_app(app)``):
    exempt it from Flask-WTF's automatic CSRF check (the blueprint checks CSRF itself for
    session-cookie writes, see ``views.authenticate``) and add the security schemes to the
    OpenAPI document."""
    from ..extensions import csrf
    from . import views

    csrf.exempt(views.blp)
    schemes = dict(views.SECURITY_SCHEMES)
    schemes["sessionCookie"] = {
        "type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session"),
        "description": "A logged-in browser's session (the counter tablet's pages).",
    }
    for name, scheme in schemes.items():
        api.spec.components.security_scheme(name, scheme)
    api.register_blueprint(views.blp, url_prefix="/api/v1")
