"""``flask --app wastebank notify …``: drain the outbox (for cron) and show it."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import NOTIFICATION_STATUSES, Unit
from ..services.notifications import list_notifications, set_unit_notifications
from ..services.transaction import run_in_transaction
from ..timeutil import format_local
from .drain import send_pending

notify = AppGroup("notify", help="Messages to members' phones (docs/notifications.md).")


@notify.command("send")
@click.option("--limit", type=click.IntRange(1, 10_000), default=None,
              help="At most this many messages (default NOTIFY_BATCH).")
def notify_send(limit):
    """Send the due messages once (run it from cron every minute) and print the counts."""
    try:
        result = send_pending(limit)
    except ValueError as exc:  # a misconfigured sender: nothing was claimed
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"sent {result.sent}, retrying {result.retrying}, failed {result.failed}, "
               f"waiting (rate limit) {result.waiting}")


@notify.command("list")
@click.option("--status", type=click.Choice(NOTIFICATION_STATUSES), default=None)
@click.option("--unit", "unit_code", default=None, help="One unit's messages only.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50)
def notify_list(status, unit_code, limit):
    """The outbox, newest first: time, unit, member, event, status, attempts, reason."""
    unit_id = _unit(unit_code).id if unit_code else None
    rows = list_notifications(unit_id, status=status, limit=limit)
    for note in rows:
        click.echo("\t".join([format_local(note.created_at), note.member.unit.code, note.member.member_no,
                              note.event, note.status, str(note.attempts), note.last_error or "-"]))
    click.echo(f"{len(rows)} messages")


@notify.command("unit")
@click.argument("code")
@click.argument("state", type=click.Choice(["on", "off"]))
def notify_unit(code, state):
    """Switch a unit's messages on or off (audited)."""
    unit = _unit(code)
    changed = run_in_transaction(lambda: set_unit_notifications(unit, state == "on", user_id=None))
    click.echo(f"unit {unit.code}: notifications {state}" + ("" if changed else " (unchanged)"))


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None:
        click.echo(f"error: no unit {code!r}", err=True)
        sys.exit(1)
    return unit
