"""Members (nasabah): ``member create|renumber|bad-numbers|import``."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Member
from ..services.member_import import ImportFileError, ImportPreview, confirm_import, preview_import
from ..services.members import create_member, is_valid_member_no, live_card, renumber_member
from .common import fail, unit_by_code, write

member = AppGroup("member", help="Members (nasabah).")


@member.command("create")
@click.argument("unit_code")
@click.argument("name")
@click.option("--phone", default="")
def member_create(unit_code, name, phone):
    """Register NAME at UNIT; prints the member number and card token."""
    target = unit_by_code(unit_code)
    new = write(lambda: create_member(target, name, phone=phone))
    click.echo(f"member {new.member_no} created: {new.name}; card token {live_card(new).token}")


@member.command("renumber")
@click.argument("unit_code")
@click.argument("old_no")
@click.argument("new_no")
def member_renumber(unit_code, old_no, new_no):
    """Give the member OLD_NO of UNIT the number NEW_NO (letters, digits, "-", "."): for
    numbers imported before the rule, e.g. XS/0099 (docs/member-numbers.md)."""
    target = unit_by_code(unit_code)
    # The exact stored number (not services.scope.member_in_unit, which ignores case): the
    # numbers to fix are the ones ``member bad-numbers`` printed.
    found = db.session.scalar(select(Member).where(Member.unit_id == target.id, Member.member_no == old_no))
    if found is None:
        fail(f"no member {old_no!r} at {target.code}")
    write(lambda: renumber_member(found, new_no))
    click.echo(f"member {old_no} is now {found.member_no}")


@member.command("bad-numbers")
def member_bad_numbers():
    """List members whose number breaks the member-number rule (made before it), one
    ``UNIT NUMBER NAME`` a line; renumber them with ``flask member renumber``."""
    for found in db.session.scalars(select(Member).order_by(Member.unit_id, Member.member_no)):
        if not is_valid_member_no(found.member_no):
            click.echo(f"{found.unit.code}\t{found.member_no}\t{found.name}")


def _nothing_to_write(preview: ImportPreview, unit_code: str, dry_run: bool) -> bool:
    """Print why an import writes nothing — bad rows (then exit 1), a file imported before,
    a dry run, no new members — and return True; False when it is to be imported."""
    for row in preview.errors:
        for message in row.messages:
            click.echo(f"row {row.row_no}: {message}", err=True)
    if preview.errors:
        fail(f"{len(preview.errors)} rows with errors; nothing imported")
    if preview.previous is not None:
        click.echo(f"this file was already imported at {unit_code} "
                   f"({preview.previous.created_at:%Y-%m-%d %H:%M} UTC); nothing changed")
        return True
    if dry_run or not preview.new_rows:
        click.echo(f"{len(preview.new_rows)} new members, {len(preview.skipped)} already registered"
                   + ("; nothing written (dry run)" if dry_run else "; nothing to import"))
        return True
    return False


@member.command("import")
@click.argument("unit_code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="only check the file and show what would be created")
def member_import(unit_code, path, dry_run):
    """Import members and opening balances from a CSV or .xlsx file at UNIT (as the
    import screen does: every row is checked first; nothing is written if any row is bad;
    the same file twice changes nothing)."""
    target = unit_by_code(unit_code)
    data, filename = Path(path).read_bytes(), Path(path).name
    try:
        preview = preview_import(target, data, filename)
    except ImportFileError as exc:
        fail(str(exc.message))
    if _nothing_to_write(preview, target.code, dry_run):
        return
    result = write(lambda: confirm_import(target, data, filename, user_id=None))
    for new, amount in result.created:
        click.echo(f"member {new.member_no} created: {new.name}; opening balance Rp {amount}")
    click.echo(f"{len(result.created)} members imported at {target.code}, opening balances Rp "
               f"{result.opening_total_idr} in all; {result.skipped} already registered")
