"""Flask-Login loaders: session cookie (``"<id>.<session_version>"``) and bearer token.

A request with an ``Authorization: Bearer …`` header is the token's alone: the session
loader ignores the cookie then, so Flask-Login falls through to the request loader, which
reads the token once (``tokens.user_for_token``, which slides its lifetime). A revoked or
unknown token leaves the request anonymous (the API answers 401), even beside a cookie."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from ..models import User
from .tokens import user_for_token

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in.")
login_manager.session_protection = "basic"


def bearer_token(request) -> str | None:
    """The token of ``request``'s ``Authorization: Bearer <token>`` header (stripped, maybe
    empty), or None when the header is absent or of another scheme. The one parser of it."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id, or None when the version moved on, the user is inactive, or
    the request carries a bearer token (which alone decides who calls)."""
    if bearer_token(request) is not None:
        return None
    try:
        user_id, version = (int(part) for part in session_id.split("."))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


@login_manager.request_loader
def load_user_from_bearer(request) -> User | None:
    """The user of an ``Authorization: Bearer <token>`` header, or None (no header, an empty,
    unknown, revoked or expired token, an inactive user)."""
    token = bearer_token(request)
    return user_for_token(token) if token else None
