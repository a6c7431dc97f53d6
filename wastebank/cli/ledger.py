"""The books: ``ledger verify``."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..services.ledger import verify_ledger
from .common import unit_by_code

ledger = AppGroup("ledger", help="The ledger.")


@ledger.command("verify")
@click.option("--unit", "unit_code")
def ledger_verify(unit_code):
    """Prove every entry balances and every cached balance equals its postings."""
    report = verify_ledger(unit_by_code(unit_code).id if unit_code else None)
    for fault in report.faults:
        click.echo(f"FAULT {fault}")
    click.echo(f"checked {report.entries} journal entries, {report.accounts} accounts: "
               + ("OK" if report.ok else f"{len(report.faults)} faults"))
    sys.exit(0 if report.ok else 1)
