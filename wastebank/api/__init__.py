"""JSON API v1 (docs/rules.md §api), built with flask-smorest: the marshmallow schemas in
``schemas.py`` validate requests and generate the OpenAPI 3 document at ``/api/v1/openapi.json``.

Endpoints (``views.py``): ``POST /api/v1/deposits``, ``POST /api/v1/withdrawals``,
``POST /api/v1/deposits/<id>/void``, ``POST /api/v1/withdrawals/<id>/void``,
``POST /api/v1/withdrawals/cancel`` (docs/counter-offline.md §cancelled withdrawals),
``GET /api/v1/members/<member_no>``, ``GET /api/v1/prices``. Errors (``errors.py``):
``{"error": {"code", "message", "field"}}``.

``api`` is the package's flask-smorest Api object (``WastebankApi``: the error schema of
``errors.py``); ``create_app`` binds it with :func:`init_app`.
"""
from __future__ import annotations

from flask import current_app, request

from ..extensions import limiter
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


@limiter.request_filter  # registered once per process (the limiter is the module-level one)
def _unlimited() -> bool:
    """Flask-Limiter's request filter: True (nothing to count) for a request to this blueprint
    while no default, application-wide or in-memory fallback limit is configured. No API view
    carries a limit of its own (tests/test_api_limits.py holds that; brute force is limited at
    the login), so the
    limiter's per-request resolution of limits is skipped on the counter's hot path (issue 13:
    about 2 % of a deposit's Python calls). A deployment's ``RATELIMIT_DEFAULT``,
    ``RATELIMIT_APPLICATION`` or ``RATELIMIT_IN_MEMORY_FALLBACK`` still applies to the API."""
    config = current_app.config
    return request.blueprint == "api" and not any(config.get(key) for key in _API_LIMIT_KEYS)


# The settings under which Flask-Limiter would count a request to a view without a limit of its own.
_API_LIMIT_KEYS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_IN_MEMORY_FALLBACK")
