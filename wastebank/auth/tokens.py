"""Per-user bearer tokens and ending every session of a user."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from ..extensions import db
from ..models import ApiToken, User, utcnow


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, label: str = "") -> str:
    """Issue a bearer token for ``user``; returns the token text (shown once, stored hashed)."""
    token = "wb_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """The active user owning an unrevoked ``token``, or None."""
    row = db.session.scalar(select(ApiToken).where(
        ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user


def end_all_sessions(user: User) -> None:
    """Log ``user`` out everywhere: bump the session version (old cookies stop loading) and
    revoke every bearer token. Used on logout, deactivation and password change."""
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    db.session.flush()
