"""The network: ``aggregator create``, ``unit create``, ``collaborator create|sponsor``."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..money import InputError
from ..services.org import add_sponsorship, create_aggregator, create_collaborator, create_unit, parse_fee_percent
from .common import aggregator_by_code, collaborator_by_name, fail, unit_by_code, write

aggregator = AppGroup("aggregator", help="Aggregators.")
unit = AppGroup("unit", help="Units (bank sampah unit).")
collaborator = AppGroup("collaborator", help="Collaborators (sponsors) and what they sponsor.")


@aggregator.command("create")
@click.argument("code")
@click.argument("name")
def aggregator_create(code, name):
    """Create aggregator CODE called NAME."""
    agg = write(lambda: create_aggregator(code, name))
    click.echo(f"aggregator {agg.code} created: {agg.name} (id {agg.id})")


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
def unit_create(code, name, aggregator_code, rw, kelurahan, kecamatan, kota, address, receipt_width, fee_percent):
    """Create unit CODE called NAME, with its ledger accounts."""
    try:
        fee_bp = parse_fee_percent(fee_percent)
    except InputError as exc:
        fail(str(exc.message))
    agg = aggregator_by_code(aggregator_code) if aggregator_code else None
    new = write(lambda: create_unit(code, name, aggregator=agg, rw=rw, kelurahan=kelurahan, kecamatan=kecamatan,
                                    kota=kota, address=address, receipt_width_mm=int(receipt_width), fee_bp=fee_bp))
    click.echo(f"unit {new.code} created: {new.name} (id {new.id}, aggregator "
               f"{agg.code if agg else '-'}, receipt {new.receipt_width_mm} mm, fee {fee_bp / 100}%)")


@collaborator.command("create")
@click.argument("name")
def collaborator_create(name):
    """Register sponsor NAME."""
    new = write(lambda: create_collaborator(name))
    click.echo(f"collaborator {new.name} created (id {new.id})")


@collaborator.command("sponsor")
@click.argument("name")
@click.argument("unit_code")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]))
def collaborator_sponsor(name, unit_code, start, end):
    """NAME sponsors UNIT from a date (to a date, or open-ended)."""
    sponsor, target = collaborator_by_name(name), unit_by_code(unit_code)
    row = write(lambda: add_sponsorship(sponsor, target, start.date(), end.date() if end else None))
    click.echo(f"{name} sponsors {unit_code.upper()} from {row.start_date.isoformat()}"
               + (f" to {row.end_date.isoformat()}" if row.end_date else ""))
