"""The month lock on the command line: ``ledger lock`` and ``ledger unlock`` (docs/month-lock.md).

The command line is the server's operator, trusted as an admin: the lock rows and audit rows
carry no user and the device ``cli``.
"""
from __future__ import annotations

from datetime import date

import click

from ..reports.statements import parse_month
from ..services.month_close import lock_month, units_of, unlock_month
from ..services.month_lock import month_label
from .common import aggregator_by_code, fail, unit_by_code, write
from .ledger import ledger


def _target(month: str, aggregator_code: str | None, unit_code: str | None):
    try:
        year, month_no = parse_month(month)
    except ValueError:
        fail(f"month {month!r} is not YYYY-MM")
    if bool(aggregator_code) == bool(unit_code):
        fail("give exactly one of --aggregator CODE or --unit CODE")
    units = units_of(aggregator_by_code(aggregator_code)) if aggregator_code else [unit_by_code(unit_code)]
    return year, month_no, units


@ledger.command("lock")
@click.argument("month")
@click.option("--aggregator", "aggregator_code", help="Lock the month for every unit of this aggregator.")
@click.option("--unit", "unit_code", help="Lock the month for this unit only.")
def ledger_lock(month, aggregator_code, unit_code):
    """Close the books of MONTH (YYYY-MM, over already): nothing more may be dated into it."""
    year, month_no, units = _target(month, aggregator_code, unit_code)
    made = write(lambda: lock_month(units, year, month_no, None))
    label = month_label(date(year, month_no, 1), "en")
    locked = {lock.unit_id for lock in made}
    for unit in units:
        click.echo(f"{unit.code} {month}: " + ("locked" if unit.id in locked else "already locked"))
    click.echo(f"{label}: {len(made)} unit(s) locked")


@ledger.command("unlock")
@click.argument("month")
@click.option("--aggregator", "aggregator_code", help="Unlock the month for every unit of this aggregator.")
@click.option("--unit", "unit_code", help="Unlock the month for this unit only.")
@click.option("--reason", required=True, help="Why the month is opened again (audited).")
def ledger_unlock(month, aggregator_code, unit_code, reason):
    """Open a locked MONTH again, with a reason (audited)."""
    year, month_no, units = _target(month, aggregator_code, unit_code)
    opened = write(lambda: unlock_month(units, year, month_no, None, reason))
    codes = {unit.id: unit.code for unit in units}
    for lock in opened:
        click.echo(f"{codes[lock.unit_id]} {month}: unlocked")
