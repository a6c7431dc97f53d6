"""Monthly statements: ``statement aggregator``."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from ..reports.statements import aggregator_statement, parse_month, statement_csv, statement_filename, statement_pdf
from .common import aggregator_by_code, fail

statement = AppGroup("statement", help="Statements (issue 5).")


@statement.command("aggregator")
@click.argument("code")
@click.argument("month")
@click.option("--out", "out_dir", default=".", type=click.Path(file_okay=False),
              help="directory for the PDF and the CSV (created if missing)")
@click.option("--lang", default="id", type=click.Choice(["id", "en"]))
def statement_aggregator(code, month, out_dir, lang):
    """Write aggregator CODE's statement for MONTH (YYYY-MM) as PDF and CSV into --out."""
    try:
        year, month_no = parse_month(month)
    except ValueError as exc:
        fail(str(exc))
    st = aggregator_statement(aggregator_by_code(code), year, month_no)
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
