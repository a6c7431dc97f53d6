"""Gapless per-unit, per-year receipt numbers for deposits, withdrawals and sales
(docs/rules.md §numbering)."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from ..models import ReceiptCounter, Unit
from ..timeutil import to_local


def next_receipt_no(unit: Unit, moment: datetime) -> str:
    """Take the unit's next receipt number for the local year of ``moment``:
    ``<UNIT>-<YYYY>-<6 digits>``, gapless (the counter row is updated in the caller's
    transaction, so a rollback gives the number back) and never reused.

    One statement: ``INSERT … ON CONFLICT (unit_id, year) DO UPDATE SET last_no = last_no + 1
    RETURNING last_no`` (the year's first receipt creates the row with 1). The counter row is
    hot (every receipt of the unit), so callers take the number as late as they can."""
    year = to_local(moment).year
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    number = db.session.execute(
        dialect_insert(ReceiptCounter).values(unit_id=unit.id, year=year, last_no=1)
        .on_conflict_do_update(index_elements=[ReceiptCounter.unit_id, ReceiptCounter.year],
                               set_={"last_no": ReceiptCounter.last_no + 1})
        .returning(ReceiptCounter.last_no)
    ).scalar_one()
    return f"{unit.code}-{year}-{number:06d}"
