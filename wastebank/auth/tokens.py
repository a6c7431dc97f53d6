"""Per-user bearer tokens (devices and scripts), their lifetime, and ending every session of a
user. Rules: docs/tokens.md (issue 10 item 4)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ApiToken, User, utcnow
from ..services.transaction import prepared, run_in_transaction

DEFAULT_IDLE_DAYS = 30
DEFAULT_TOUCH_SECONDS = 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def idle_lifetime() -> timedelta:
    """How long a token lives without use: ``API_TOKEN_IDLE_DAYS`` (default 30 days)."""
    return timedelta(days=_setting("API_TOKEN_IDLE_DAYS", DEFAULT_IDLE_DAYS))


def create_token(user: User, label: str = "") -> str:
    """Issue a bearer token for ``user``; returns the token text (shown once, stored hashed).
    It expires after :func:`idle_lifetime` unless used. Flushes."""
    token = "wb_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label[:100],
                            expires_at=utcnow() + idle_lifetime()))
    db.session.flush()
    return token


def _token_select(_dialect: str):
    """One joined query: the user of the live token of a hash with the user's unit (the
    counter's unit), and of the token only its id and last use (no ApiToken instance: every
    request with a bearer token runs this); built once per process."""
    return (select(User, ApiToken.id, ApiToken.last_used_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .options(joinedload(User.unit))
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > bindparam("now")))


def user_for_token(token: str) -> User | None:
    """The active user owning ``token`` if it is neither revoked nor expired, else None.

    A use slides the expiry: ``last_used_at`` = now and ``expires_at`` = now +
    :func:`idle_lifetime`, written at most once per ``API_TOKEN_TOUCH_SECONDS`` (default an
    hour) so that the counter's hot path reads and does not write. The write is committed
    at once when the session holds nothing else (the usual case: the loader runs before the
    view), otherwise it rides with the caller's commit.
    """
    now = utcnow()
    row = db.session.execute(prepared("tokens.user", _token_select),
                             {"token_hash": _digest(token), "now": now}).first()
    if row is None or not row[0].active:
        return None
    user, token_id, last_used_at = row
    touch = timedelta(seconds=_setting("API_TOKEN_TOUCH_SECONDS", DEFAULT_TOUCH_SECONDS))
    if last_used_at is None or now - last_used_at >= touch:
        quiet = not (db.session.new or db.session.dirty or db.session.deleted)
        # Guarded UPDATE: of parallel requests with the same token only the first writes.
        slide = (update(ApiToken)
                 .where(ApiToken.id == token_id,
                        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - touch))
                 .values(last_used_at=now, expires_at=now + idle_lifetime())
                 .execution_options(synchronize_session=False))
        if quiet:
            # The guard is in the UPDATE itself: on SQLite it may write at a fresh snapshot.
            run_in_transaction(lambda: db.session.execute(slide), rechecks_under_lock=True)
        else:
            db.session.execute(slide)
    return user


def live_tokens(user: User | None = None) -> list[ApiToken]:
    """Unrevoked, unexpired tokens, newest first: ``user``'s, or everyone's when None."""
    stmt = select(ApiToken).where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
    if user is not None:
        stmt = stmt.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(token_id: int, *, by: User, any_user: bool = False) -> ApiToken:
    """Revoke the live token ``token_id`` at once, audited as ``token.revoke`` by ``by``.
    Only ``by``'s own tokens unless ``any_user`` (the admin). Flushes; the caller commits.

    Raises NotFound for an unknown, already revoked or expired token and for another user's
    token when not ``any_user`` (so a token's existence is not revealed).
    """
    from flask_babel import lazy_gettext as _l

    from ..services.audit import audit
    from ..services.errors import NotFound

    row = db.session.get(ApiToken, token_id)
    if (row is None or row.revoked_at is not None or row.expires_at <= utcnow()
            or (not any_user and row.user_id != by.id)):
        raise NotFound(_l("No such token."), field="token")
    row.revoked_at = utcnow()
    db.session.flush()
    audit("token.revoke", unit_id=row.user.unit_id, user_id=by.id, object_type="api_token",
          object_id=row.id, details={"owner": row.user.username, "label": row.label})
    return row


def end_all_sessions(user: User) -> None:
    """Log ``user`` out everywhere: bump the session version (old cookies stop loading) and
    revoke every bearer token. Used on logout, deactivation and password change."""
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    db.session.flush()
