"""Helpers for the statement, impact and unit-report tests: post business at given instants."""
from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone

from wastebank.extensions import db
from wastebank.models import clock_at
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal, void_deposit, void_withdrawal

WIB = timezone(timedelta(hours=7))


def at(y, mo, d, h=10, mi=0) -> datetime:
    """A Jakarta wall-clock time as an aware datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=WIB)


def deposit(unit, member, lines, when, recorded_at=None):
    """Record a deposit of ``lines`` [(code, "1,5")] at ``when``; returns the Deposit."""
    from wastebank.models import Deposit
    with clock_at(when):
        out = record_deposit(unit, member, [LineInput(c, q) for c, q in lines], operator_id=None,
                             idempotency_key=uuid.uuid4().hex, recorded_at=recorded_at)
        db.session.flush()
    return db.session.get(Deposit, out.body["id"])


def withdraw(unit, member, amount, when, user, method="cash"):
    from wastebank.models import Withdrawal
    with clock_at(when):
        out = record_withdrawal(unit, member, WithdrawalInput(method, amount, reference="REF-1"
                                                             if method == "transfer" else "",
                                                             beneficiary="Masjid" if method == "donation" else ""),
                                user=user, idempotency_key=uuid.uuid4().hex)
        db.session.flush()
    assert out.status == 201, out.body
    return db.session.get(Withdrawal, out.body["id"])


def void(record, when, user):
    from wastebank.models import Deposit
    fn = void_deposit if isinstance(record, Deposit) else void_withdrawal
    with clock_at(when):
        out = fn(record, user=user, reason="salah timbang", idempotency_key=uuid.uuid4().hex)
        db.session.flush()
    assert out.status == 200, out.body
    return out


def pdf_text(data: bytes) -> tuple[str, int]:
    """All text of a PDF and its page count."""
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)
