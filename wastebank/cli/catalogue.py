"""What units buy and for how much: ``category load``, ``price set`` (rules: docs/prices.md)."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import WasteCategory
from ..services.catalog import default_catalogue_text, load_catalogue, parse_prices, set_price
from .common import fail, unit_by_code, write

category = AppGroup("category", help="Waste categories.")
price = AppGroup("price", help="Price lists.")


@category.command("load")
@click.argument("csv_path", required=False)
@click.option("--prices-for", "unit_codes", multiple=True, help="also set the CSV's buy/sell prices at these units")
def category_load(csv_path, unit_codes):
    """Load categories from CSV_PATH (catalogue format; default: the shipped catalogue)."""
    if csv_path:
        with open(csv_path, encoding="utf-8-sig") as handle:
            text = handle.read()
    else:
        text = default_catalogue_text()
    targets = [unit_by_code(code) for code in unit_codes]

    def load() -> int:
        rows = load_catalogue(text)
        for target in targets:
            for cat, buy, sell in rows:
                set_price(target.id, cat, buy, sell)
        return len(rows)

    count = write(load)
    click.echo(f"{count} categories loaded" + (f"; prices set at {', '.join(unit_codes)}" if unit_codes else ""))


@price.command("set")
@click.argument("unit_code")
@click.argument("category_code")
@click.argument("buy")
@click.option("--sell", default="0")
@click.option("--from", "effective", type=click.DateTime(formats=["%Y-%m-%d"]))
def price_set(unit_code, category_code, buy, sell, effective):
    """Set CATEGORY's buy price BUY (rupiah per unit, e.g. 3.250) at UNIT (rules: docs/prices.md)."""
    target = unit_by_code(unit_code)
    cat = db.session.scalar(select(WasteCategory).where(WasteCategory.code == category_code.upper()))
    if cat is None:
        fail(f"no category {category_code!r}")
    eff: date | None = effective.date() if effective else None

    def set_one():
        buy_idr, sell_idr = parse_prices(buy, sell)
        return set_price(target.id, cat, buy_idr, sell_idr, eff)

    row = write(set_one)
    click.echo(f"price {target.code} {cat.code}: buy Rp {row.buy_price_idr}/{cat.unit}, "
               f"sell Rp {row.sell_price_idr}/{cat.unit}, from {row.effective_from.isoformat()}")
