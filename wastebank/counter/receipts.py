"""What deposit and withdrawal receipts share: the QR's verification URLs, original or copy
(SALINAN), and the WhatsApp share link. The verification code itself is
``services.receipt_links.receipt_code`` (notifications print the same URLs)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from ..extensions import db
from ..models import Deposit, Withdrawal
from ..models.types import utcnow
from ..money import format_idr
from ..services.receipt_links import receipt_verify_url
from ..services.transaction import run_in_transaction


def verify_url(receipt_no: str) -> str:
    """The public URL printed as a QR on a deposit receipt (``services.receipt_links``)."""
    return receipt_verify_url("deposit", receipt_no)


def withdrawal_verify_url(receipt_no: str) -> str:
    """The public URL printed as a QR on a withdrawal receipt (``services.receipt_links``)."""
    return receipt_verify_url("withdrawal", receipt_no)


# --- original or copy (SALINAN) -----------------------------------------------------------

#: How long the print links of a receipt's first view print the original, and how soon after
#: saving that first view must come to be the original (a receipt first opened later, from the
#: member page or the outbox, is a copy).
ORIGINAL_WINDOW = timedelta(minutes=15)
_ORIGINAL_SALT = "receipt-original"


def _operator_column(model: type[Deposit] | type[Withdrawal]):
    """The user who did the operation a receipt is shown to the member after: the deposit's
    operator, the withdrawal's payer."""
    return model.operator_id if model is Deposit else model.paid_by_id


def claim_original(model: type[Deposit] | type[Withdrawal], record_id: int, saved_at: datetime | None) -> bool:
    """Record that the receipt of ``model`` row ``record_id`` is being shown; True when this is
    its original view: the very first view (claimed atomically — ``UPDATE … SET
    receipt_shown_at = now WHERE id = :id AND receipt_shown_at IS NULL`` — so two tabs can never
    both get it) and no later than ``ORIGINAL_WINDOW`` after ``saved_at`` (UTC). Commits.

    Only the counter's view shown to the member marks it: an operator's, or a unit manager's of
    an operation the manager did at the counter (the deposit's operator, the withdrawal's payer).
    A unit manager looking at another person's operation (checking it, from the audit log or a
    member's page) sees a copy and marks nothing, so the member's original is not used up
    (tester F9; the manager's own screen, ``manager.withdrawal``, says whether it was shown)."""
    now = utcnow()
    viewer = getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None
    checking = getattr(current_user, "role", None) == "unit_manager"

    def claim() -> bool:
        where = [model.id == record_id, model.receipt_shown_at.is_(None)]
        if checking:
            where.append(_operator_column(model) == viewer)
        result = db.session.execute(
            update(model).where(*where).values(receipt_shown_at=now).execution_options(synchronize_session=False))
        return result.rowcount == 1

    first = run_in_transaction(claim)
    return first and saved_at is not None and now - saved_at <= ORIGINAL_WINDOW


def original_token(kind: str, receipt_no: str) -> str:
    """A signed token (itsdangerous, the app's SECRET_KEY) that lets the print links of a
    receipt's original view print the original: ``kind`` ``"d"`` (deposit) or ``"w"``
    (withdrawal) and the receipt number; valid ``ORIGINAL_WINDOW``."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_ORIGINAL_SALT).dumps([kind, receipt_no])


def is_original_print(kind: str, receipt_no: str, token: str | None) -> bool:
    """True when ``token`` was made by ``original_token(kind, receipt_no)`` less than
    ``ORIGINAL_WINDOW`` ago; any other token, or none, prints a copy (SALINAN)."""
    if not token:
        return False
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_ORIGINAL_SALT)
    try:
        value = serializer.loads(token, max_age=int(ORIGINAL_WINDOW.total_seconds()))
    except (BadSignature, TypeError, ValueError):
        return False
    return value == [kind, receipt_no]


def whatsapp_share_url(*, title: str, unit_name: str, receipt_no: str, when: str,
                       amounts: list[tuple[str, int]], check_url: str, phone: str = "", note: str = "",
                       locale=None) -> str:
    """The ``https://wa.me/…?text=…`` link that shares a receipt's summary by WhatsApp (no API
    account): unit, ``title`` and number, ``when`` (local time text), one ``label: Rp …`` line
    per ``amounts`` (rupiah), and the receipt's verification URL. ``note``, when given, is a
    line under ``when`` (a deposit booked later than weighed: ``reports.period.capture_note``,
    as the printed receipt prints it under its date). ``phone`` in E.164
    (``+62…``, as ``services.members.normalise_phone`` stores it) addresses that chat;
    otherwise WhatsApp asks whom to send it to."""
    locale = locale or get_locale()
    lines = [unit_name, f"{title} {receipt_no}", when] + ([note] if note else [])
    lines += [f"{label}: {format_idr(value, locale)}" for label, value in amounts]
    lines.append(_("Check this receipt: %(url)s", url=check_url))
    number = re.sub(r"\D", "", phone or "")
    target = number if number.startswith("62") else ""
    return f"https://wa.me/{target}?text={quote(chr(10).join(lines), safe='')}"
