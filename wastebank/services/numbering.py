"""Gapless per-unit, per-year receipt numbers for deposits, withdrawals and sales
(docs/rules.md §numbering)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from ..extensions import db
from ..models import ReceiptCounter, Unit
from ..timeutil import to_local
from .transaction import insert_or_ignore


def next_receipt_no(unit: Unit, moment: datetime) -> str:
    """Take the unit's next receipt number for the local year of ``moment``:
    ``<UNIT>-<YYYY>-<6 digits>``, gapless (the counter row is updated in the caller's
    transaction, so a rollback gives the number back) and never reused."""
    year = to_local(moment).year
    insert_or_ignore(ReceiptCounter, unit_id=unit.id, year=year, last_no=0)
    number = db.session.execute(
        update(ReceiptCounter)
        .where(ReceiptCounter.unit_id == unit.id, ReceiptCounter.year == year)
        .values(last_no=ReceiptCounter.last_no + 1)
        .returning(ReceiptCounter.last_no)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return f"{unit.code}-{year}-{number:06d}"
