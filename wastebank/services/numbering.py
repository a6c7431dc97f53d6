"""Gapless per-unit, per-year receipt numbers for deposits, withdrawals and sales
(docs/rules.md §numbering)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import bindparam

from ..models import ReceiptCounter, Unit
from ..timeutil import to_local
from .transaction import dialect_insert, prepared, run_core


def _counter_upsert(dialect: str):
    table = ReceiptCounter.__table__
    return (dialect_insert(dialect)(table).values(unit_id=bindparam("unit_id"), year=bindparam("year"), last_no=1)
            .on_conflict_do_update(index_elements=[table.c.unit_id, table.c.year],
                                   set_={"last_no": table.c.last_no + 1})
            .returning(table.c.last_no))


def next_receipt_no(unit: Unit, moment: datetime) -> str:
    """Take the unit's next receipt number for the local year of ``moment``:
    ``<UNIT>-<YYYY>-<6 digits>``, gapless (the counter row is updated in the caller's
    transaction, so a rollback gives the number back) and never reused.

    One statement: ``INSERT … ON CONFLICT (unit_id, year) DO UPDATE SET last_no = last_no + 1
    RETURNING last_no`` (the year's first receipt creates the row with 1). The counter row is
    hot (every receipt of the unit), so callers take the number as late as they can."""
    return take_receipt_no(unit, moment)()


def take_receipt_no(unit: Unit, moment: datetime) -> Callable[[], str]:
    """:func:`next_receipt_no` with the answer read later: the statement is run now (sent,
    when statements are sent together: transaction.send_together) and the returned function
    gives the number, reading the answer at its first call."""
    year = to_local(moment).year
    upsert = prepared("receipt_counter.next", _counter_upsert)
    answer = run_core(upsert, {"unit_id": unit.id, "year": year})
    code, taken = unit.code, []

    def number() -> str:
        if not taken:
            taken.append(f"{code}-{year}-{answer.scalar_one():06d}")
        return taken[0]
    return number
