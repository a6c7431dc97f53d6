"""Government exports from the command line: ``export sipsn`` (tonnage for DLH / SIPSN, issue 12
item 2) and ``export levy`` (levy-exemption list, Perda DKI 1/2024, issue 12 item 3).
docs/exports.md; the same tables as the downloads (``reports/sipsn.py``, ``reports/levy.py``).
"""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from ..cli.common import aggregator_by_code, fail, unit_by_code, write
from ..extensions import db
from ..models import Unit
from ..services.audit import audit
from .csvfile import SEPARATORS, csv_bytes
from .levy import audit_details, levy_list, levy_table
from .sipsn import MissingKgFactor, sipsn_report, sipsn_table
from .statements import parse_month

export = AppGroup("export", help="Government exports: SIPSN tonnage, levy-exemption list (issue 12).")

_FORMAT = click.option("--format", "fmt", default="names", type=click.Choice(["names", "codes"]),
                       help="names: Indonesian headers, kilograms (default); codes: snake_case, grams")
_SEP = click.option("--sep", default=None, type=click.Choice(sorted(SEPARATORS)),
                    help="separator (default: semicolon for names, comma for codes)")
_LANG = click.option("--lang", default="id", type=click.Choice(["id", "en"]))


def _month(text: str) -> tuple[int, int]:
    try:
        return parse_month(text)
    except ValueError as exc:
        fail(str(exc))


def _separator(sep: str | None, fmt: str) -> str:
    return SEPARATORS[sep] if sep else (";" if fmt == "names" else ",")


@export.command("sipsn")
@click.argument("month")
@click.option("--aggregator", "aggregator_code", help="only this aggregator's units (default: every unit)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="the CSV file to write")
@_FORMAT
@_SEP
@_LANG
def export_sipsn(month, aggregator_code, out_path, fmt, sep, lang):
    """Write the tonnage export for MONTH (YYYY-MM): per unit and material group, kilograms
    collected and sold, active members. Refuses when a pcs/L category lacks its kg factor."""
    year, month_no = _month(month)
    query = select(Unit).order_by(Unit.code)
    if aggregator_code:
        query = query.where(Unit.aggregator_id == aggregator_by_code(aggregator_code).id)
    units = list(db.session.scalars(query))
    with force_locale(lang):
        try:
            report = sipsn_report(units, year, month_no)
        except MissingKgFactor as exc:
            fail(str(exc.message))
        body = csv_bytes(*sipsn_table(report, fmt), sep=_separator(sep, fmt))
    Path(out_path).write_bytes(body)
    total = report.total
    click.echo(f"sipsn {report.month_text}: {len(report.units)} units, collected {total.collected_total_g} g, "
               f"sold {total.sold_total_g} g, active members {total.active_members}; written to {out_path}")


@export.command("levy")
@click.argument("month")
@click.option("--unit", "unit_code", required=True, help="unit CODE")
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="the CSV file to write (default: levy-exemption-<UNIT>-<MONTH>.csv)")
@_FORMAT
@_SEP
@_LANG
def export_levy(month, unit_code, out_path, fmt, sep, lang):
    """Write unit CODE's levy-exemption list for MONTH (YYYY-MM): active households by RW and
    RT. Personal data: the export is written to the audit log."""
    from .levy import levy_filename

    year, month_no = _month(month)
    unit = unit_by_code(unit_code)
    levy = levy_list(unit, year, month_no)
    with force_locale(lang):
        body = csv_bytes(*levy_table(levy, fmt), sep=_separator(sep, fmt))
    target = Path(out_path or levy_filename(levy))
    write(lambda: audit("export.levy", unit_id=unit.id, user_id=None, object_type="unit", object_id=unit.code,
                        details=audit_details(levy, fmt)))
    target.write_bytes(body)
    sections = ", ".join(f"RW {rw or '-'}/RT {rt or '-'}: {len(h)}" for rw, rt, h in levy.groups())
    click.echo(f"levy {unit.code} {levy.month_text}: {len(levy.households)} active households "
               f"(≥ {levy.min_deposits} deposits){'; ' + sections if sections else ''}; written to {target}")
