"""The reason a person gives for an exceptional step (reopening a day, unlocking a month).

One rule for all of them (docs/rules.md §daily-close, §month-lock): whitespace collapsed,
required, no control or invisible formatting characters (``text.has_bad_characters``), at most
``MAX_REASON`` characters. The reason is stored in the audit log as typed.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..text import has_bad_characters
from .errors import ValidationFailed

MAX_REASON = 300


def clean_reason(reason: str | None, required_message) -> str:
    """``reason`` with whitespace collapsed. Raises ValidationFailed on field ``reason``:
    ``required`` (with ``required_message``, which names the step), ``bad_characters`` or
    ``too_long`` (over ``MAX_REASON``)."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ValidationFailed({"reason": ("required", required_message)})
    if has_bad_characters(reason):
        raise ValidationFailed({"reason": ("bad_characters",
                                           _l("This value contains characters that are not allowed."))})
    if len(reason) > MAX_REASON:
        raise ValidationFailed({"reason": ("too_long", _l("The reason is too long (at most %(n)s characters).",
                                                          n=MAX_REASON))})
    return reason
