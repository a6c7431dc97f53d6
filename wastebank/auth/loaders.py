"""Flask-Login loaders: session cookie (``"<id>.<session_version>"``) and bearer token."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from ..models import User
from .tokens import user_for_token

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in.")
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id, or None when the version moved on or the user is inactive."""
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
    """The user of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return user_for_token(header[7:].strip())
    return None
