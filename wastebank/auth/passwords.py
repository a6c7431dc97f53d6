"""Password hashing with argon2 (argon2-cffi defaults; cheaper parameters under TESTING)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_default = PasswordHasher()
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("ARGON2_FAST"):
        return _fast
    return _default


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (PHC string)."""
    return _hasher().hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    """True if ``password`` matches ``stored_hash``; False on mismatch or a malformed hash."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# One hash per hasher (argon2 parameters), made on first use, of a password nobody types.
_dummy_hashes: dict[int, str] = {}


def dummy_hash() -> str:
    """An argon2 hash with the same parameters as real ones, for logins without a user: verifying
    against it costs what verifying a real password costs, so the answer's timing does not tell
    whether a username exists (issue 10: 275 ms for a known user, 16 ms for an unknown one)."""
    hasher = _hasher()
    key = id(hasher)
    if key not in _dummy_hashes:
        import secrets

        _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(32))
    return _dummy_hashes[key]


def check_login(stored_hash: str | None, password: str) -> bool:
    """``check_password`` against ``stored_hash``, or against ``dummy_hash()`` when there is no
    user (``None``): always one full argon2 verification, and False without a user."""
    if stored_hash is None:
        check_password(dummy_hash(), password)
        return False
    return check_password(stored_hash, password)
