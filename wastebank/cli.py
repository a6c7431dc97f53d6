"""Admin commands (``flask --app wastebank …``). Each prints what it created."""
from __future__ import annotations

import sys
from datetime import date
from importlib import resources

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import ROLES, Aggregator, Unit, User, WasteCategory
from .money import InputError


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None:
        _fail(f"no unit {code!r}")
    return unit


def _aggregator(code: str) -> Aggregator:
    aggregator = db.session.scalar(select(Aggregator).where(Aggregator.code == code.upper()))
    if aggregator is None:
        _fail(f"no aggregator {code!r}")
    return aggregator


def _collaborator(name: str):
    from .models.collab import Collaborator

    found = db.session.scalar(select(Collaborator).where(Collaborator.name == name))
    if found is None:
        _fail(f"no collaborator {name!r}")
    return found


def default_catalogue_text() -> str:
    """The shipped default catalogue (``wastebank/data/catalogue.csv``) as text."""
    return resources.files("wastebank").joinpath("data/catalogue.csv").read_text(encoding="utf-8")


def register(app: Flask) -> None:
    """Attach the command groups to ``app``."""

    @app.cli.group()
    def aggregator():
        """Aggregators."""

    @aggregator.command("create")
    @click.argument("code")
    @click.argument("name")
    def aggregator_create(code, name):
        """Create aggregator CODE called NAME."""
        from .services.org import create_aggregator
        agg = create_aggregator(code, name)
        db.session.commit()
        click.echo(f"aggregator {agg.code} created: {agg.name} (id {agg.id})")

    @app.cli.group()
    def unit():
        """Units (bank sampah unit)."""

    @unit.command("create")
    @click.argument("code")
    @click.argument("name")
    @click.option("--aggregator", "aggregator_code", help="aggregator CODE")
    @click.option("--rw", default="")
    @click.option("--kelurahan", default="")
    @click.option("--kecamatan", default="")
    @click.option("--kota", default="")
    @click.option("--address", default="")
    @click.option("--receipt-width", type=click.Choice(["58", "80"]), default="80")
    @click.option("--fee-percent", default="0", help="fee withheld from deposits, 0–30, e.g. 2,5")
    def unit_create(code, name, aggregator_code, rw, kelurahan, kecamatan, kota, address,
                    receipt_width, fee_percent):
        """Create unit CODE called NAME, with its ledger accounts."""
        from .services.org import create_unit, parse_fee_percent
        try:
            fee_bp = parse_fee_percent(fee_percent)
        except InputError as exc:
            _fail(str(exc.message))
        agg = _aggregator(aggregator_code) if aggregator_code else None
        new = create_unit(code, name, aggregator=agg, rw=rw, kelurahan=kelurahan, kecamatan=kecamatan,
                          kota=kota, address=address, receipt_width_mm=int(receipt_width), fee_bp=fee_bp)
        db.session.commit()
        click.echo(f"unit {new.code} created: {new.name} (id {new.id}, aggregator "
                   f"{agg.code if agg else '-'}, receipt {new.receipt_width_mm} mm, fee {fee_bp / 100}%)")

    @app.cli.group()
    def user():
        """Users."""

    @user.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--unit", "unit_code")
    @click.option("--aggregator", "aggregator_code")
    @click.option("--collaborator", "collaborator_name", help="sponsor NAME (role collaborator)")
    @click.option("--password", required=True)
    @click.option("--name", "full_name", default="")
    def user_create(username, role, unit_code, aggregator_code, collaborator_name, password, full_name):
        """Create USERNAME with ROLE, scoped to a unit, an aggregator or a collaborator."""
        from .services.org import create_user
        try:
            new = create_user(username, role, password,
                              unit=_unit(unit_code) if unit_code else None,
                              aggregator=_aggregator(aggregator_code) if aggregator_code else None,
                              collaborator=_collaborator(collaborator_name) if collaborator_name else None,
                              full_name=full_name)
        except ValueError as exc:
            _fail(str(exc))
        db.session.commit()
        scope = new.unit.code if new.unit else (new.aggregator.code if new.aggregator else (
            collaborator_name or "all"))
        click.echo(f"user {new.username} created: role {new.role}, scope {scope} (id {new.id})")

    @user.command("deactivate")
    @click.argument("username")
    def user_deactivate(username):
        """Deactivate USERNAME: every session and token ends at once."""
        from .auth.tokens import end_all_sessions
        found = db.session.scalar(select(User).where(User.username == username))
        if found is None:
            _fail(f"no user {username!r}")
        from .services.audit import audit
        found.active = False
        end_all_sessions(found)
        audit("user.deactivate", unit_id=found.unit_id, user_id=None, object_type="user", object_id=username,
              details={"role": found.role}, device="cli")
        db.session.commit()
        click.echo(f"user {username} deactivated")

    @app.cli.group()
    def collaborator():
        """Collaborators (sponsors) and what they sponsor."""

    @collaborator.command("create")
    @click.argument("name")
    def collaborator_create(name):
        """Register sponsor NAME."""
        from .services.org import create_collaborator
        try:
            new = create_collaborator(name)
        except ValueError as exc:
            _fail(str(exc))
        db.session.commit()
        click.echo(f"collaborator {new.name} created (id {new.id})")

    @collaborator.command("sponsor")
    @click.argument("name")
    @click.argument("unit_code")
    @click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
    @click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]))
    def collaborator_sponsor(name, unit_code, start, end):
        """NAME sponsors UNIT from a date (to a date, or open-ended)."""
        from .services.org import add_sponsorship
        try:
            row = add_sponsorship(_collaborator(name), _unit(unit_code), start.date(), end.date() if end else None)
        except ValueError as exc:
            _fail(str(exc))
        db.session.commit()
        click.echo(f"{name} sponsors {unit_code.upper()} from {row.start_date.isoformat()}"
                   + (f" to {row.end_date.isoformat()}" if row.end_date else ""))

    @app.cli.group()
    def token():
        """API bearer tokens."""

    @token.command("create")
    @click.argument("username")
    @click.option("--label", default="")
    def token_create(username, label):
        """Print a new bearer token for USERNAME (shown once)."""
        from .auth.tokens import create_token
        found = db.session.scalar(select(User).where(User.username == username))
        if found is None or not found.active:
            _fail(f"no active user {username!r}")
        text = create_token(found, label)
        db.session.commit()
        click.echo(text)

    @app.cli.group()
    def category():
        """Waste categories."""

    @category.command("load")
    @click.argument("csv_path", required=False)
    @click.option("--prices-for", "unit_codes", multiple=True,
                  help="also set the CSV's buy/sell prices at these units")
    def category_load(csv_path, unit_codes):
        """Load categories from CSV_PATH (catalogue format; default: the shipped catalogue)."""
        from .services.catalog import load_catalogue, set_price
        text = open(csv_path, encoding="utf-8-sig").read() if csv_path else default_catalogue_text()
        try:
            rows = load_catalogue(text)
        except ValueError as exc:
            _fail(str(exc))
        for code in unit_codes:
            target = _unit(code)
            for cat, buy, sell in rows:
                set_price(target.id, cat, buy, sell)
        db.session.commit()
        click.echo(f"{len(rows)} categories loaded" + (f"; prices set at {', '.join(unit_codes)}" if unit_codes else ""))

    @app.cli.group()
    def price():
        """Price lists."""

    @price.command("set")
    @click.argument("unit_code")
    @click.argument("category_code")
    @click.argument("buy")
    @click.option("--sell", default="0")
    @click.option("--from", "effective", type=click.DateTime(formats=["%Y-%m-%d"]))
    def price_set(unit_code, category_code, buy, sell, effective):
        """Set CATEGORY's buy price BUY (rupiah per unit, e.g. 3.250) at UNIT (rules: docs/prices.md)."""
        from .services.catalog import parse_prices, set_price
        from .services.errors import DomainError
        target = _unit(unit_code)
        cat = db.session.scalar(select(WasteCategory).where(WasteCategory.code == category_code.upper()))
        if cat is None:
            _fail(f"no category {category_code!r}")
        eff: date | None = effective.date() if effective else None
        try:
            buy_idr, sell_idr = parse_prices(buy, sell)
            row = set_price(target.id, cat, buy_idr, sell_idr, eff)
        except DomainError as exc:
            _fail(str(exc.message))
        db.session.commit()
        click.echo(f"price {target.code} {cat.code}: buy Rp {row.buy_price_idr}/{cat.unit}, "
                   f"sell Rp {row.sell_price_idr}/{cat.unit}, from {row.effective_from.isoformat()}")

    @app.cli.group()
    def member():
        """Members (nasabah)."""

    @member.command("create")
    @click.argument("unit_code")
    @click.argument("name")
    @click.option("--phone", default="")
    def member_create(unit_code, name, phone):
        """Register NAME at UNIT; prints the member number and card token."""
        from .services.errors import DomainError
        from .services.members import create_member, live_card
        try:
            new = create_member(_unit(unit_code), name, phone=phone)
        except DomainError as exc:
            _fail(str(exc.message))
        db.session.commit()
        click.echo(f"member {new.member_no} created: {new.name}; card token {live_card(new).token}")

    @member.command("renumber")
    @click.argument("unit_code")
    @click.argument("old_no")
    @click.argument("new_no")
    def member_renumber(unit_code, old_no, new_no):
        """Give the member OLD_NO of UNIT the number NEW_NO (letters, digits, "-", "."): for
        numbers imported before the rule, e.g. XS/0099 (docs/member-numbers.md)."""
        from .models import Member
        from .services.errors import DomainError
        from .services.members import renumber_member
        unit = _unit(unit_code)
        found = db.session.scalar(select(Member).where(Member.unit_id == unit.id, Member.member_no == old_no))
        if found is None:
            _fail(f"no member {old_no!r} at {unit.code}")
        try:
            renumber_member(found, new_no)
        except DomainError as exc:
            _fail(str(exc.message))
        db.session.commit()
        click.echo(f"member {old_no} is now {found.member_no}")

    @member.command("bad-numbers")
    def member_bad_numbers():
        """List members whose number breaks the member-number rule (made before it), one
        ``UNIT NUMBER NAME`` a line; renumber them with ``flask member renumber``."""
        from .models import Member
        from .services.members import is_valid_member_no
        for found in db.session.scalars(select(Member).order_by(Member.unit_id, Member.member_no)):
            if not is_valid_member_no(found.member_no):
                click.echo(f"{found.unit.code}\t{found.member_no}\t{found.name}")

    @member.command("import")
    @click.argument("unit_code")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="only check the file and show what would be created")
    def member_import(unit_code, path, dry_run):
        """Import members and opening balances from a CSV or .xlsx file at UNIT (as the
        import screen does: every row is checked first; nothing is written if any row is bad;
        the same file twice changes nothing)."""
        from pathlib import Path

        from .services.member_import import ImportFileError, confirm_import, preview_import
        target = _unit(unit_code)
        data = Path(path).read_bytes()
        try:
            preview = preview_import(target, data, Path(path).name)
        except ImportFileError as exc:
            _fail(str(exc.message))
        for row in preview.errors:
            for message in row.messages:
                click.echo(f"row {row.row_no}: {message}", err=True)
        if preview.errors:
            _fail(f"{len(preview.errors)} rows with errors; nothing imported")
        if preview.previous is not None:
            click.echo(f"this file was already imported at {target.code} "
                       f"({preview.previous.created_at:%Y-%m-%d %H:%M} UTC); nothing changed")
            return
        if dry_run or not preview.new_rows:
            click.echo(f"{len(preview.new_rows)} new members, {len(preview.skipped)} already registered"
                       + ("; nothing written (dry run)" if dry_run else "; nothing to import"))
            return
        result = confirm_import(target, data, Path(path).name, user_id=None)
        db.session.commit()
        for new, amount in result.created:
            click.echo(f"member {new.member_no} created: {new.name}; opening balance Rp {amount}")
        click.echo(f"{len(result.created)} members imported at {target.code}, opening balances Rp "
                   f"{result.opening_total_idr} in all; {result.skipped} already registered")

    @app.cli.group()
    def ledger():
        """The ledger."""

    @ledger.command("verify")
    @click.option("--unit", "unit_code")
    def ledger_verify(unit_code):
        """Prove every entry balances and every cached balance equals its postings."""
        from .services.ledger import verify_ledger
        report = verify_ledger(_unit(unit_code).id if unit_code else None)
        for fault in report.faults:
            click.echo(f"FAULT {fault}")
        click.echo(f"checked {report.entries} journal entries, {report.accounts} accounts: "
                   + ("OK" if report.ok else f"{len(report.faults)} faults"))
        sys.exit(0 if report.ok else 1)

    @app.cli.group()
    def seed():
        """Demo data."""

    @seed.command("demo")
    @click.option("--members", default=300, help="members in all")
    @click.option("--days", default=61, help="days of deposit history")
    @click.option("--seed", "rng_seed", default=2026)
    def seed_demo(members, days, rng_seed):
        """Load the demo network once (refuses if units exist); prints the logins."""
        from .demo import load_demo
        if db.session.scalar(select(Unit.id).limit(1)) is not None:
            click.echo("the database already has units; demo data is loaded only into an empty one")
            from .demo import DEMO_PASSWORD, demo_logins
            logins = demo_logins()
            if logins:
                click.echo(f"demo logins present (password {DEMO_PASSWORD}): " + ", ".join(logins))
            return
        logins = load_demo(members=members, days=days, seed=rng_seed, echo=click.echo)
        click.echo("demo logins (username / password):")
        for username, password, role in logins:
            click.echo(f"  {username:<15} {password:<13} {role}")

    @app.cli.group()
    def statement():
        """Statements (issue 5)."""

    @statement.command("aggregator")
    @click.argument("code")
    @click.argument("month")
    @click.option("--out", "out_dir", default=".", type=click.Path(file_okay=False),
                  help="directory for the PDF and the CSV (created if missing)")
    @click.option("--lang", default="id", type=click.Choice(["id", "en"]))
    def statement_aggregator(code, month, out_dir, lang):
        """Write aggregator CODE's statement for MONTH (YYYY-MM) as PDF and CSV into --out."""
        from pathlib import Path

        from flask_babel import force_locale

        from .reports.statements import (aggregator_statement, parse_month, statement_csv, statement_filename,
                                         statement_pdf)
        try:
            year, month_no = parse_month(month)
        except ValueError as exc:
            _fail(str(exc))
        st = aggregator_statement(_aggregator(code), year, month_no)
        target = Path(out_dir)
        target.mkdir(parents=True, exist_ok=True)
        with force_locale(lang):
            pdf = statement_pdf(st, lang)
        (target / statement_filename(st, "pdf")).write_bytes(pdf)
        (target / statement_filename(st, "csv")).write_bytes(statement_csv(st))
        click.echo(f"statement {st.aggregator_code} {st.month_text}: {len(st.units)} units, "
                   f"deposits {st.total.deposits}, value Rp {st.total.deposit_value_idr}, "
                   f"savings owed Rp {st.total.savings_owed_idr}; written to "
                   f"{target / statement_filename(st, 'pdf')} and .csv")
