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
