"""Demo data: ``seed demo``."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Unit

seed = AppGroup("seed", help="Demo data.")


@seed.command("demo")
@click.option("--members", default=300, help="members in all")
@click.option("--days", default=61, help="days of deposit history")
@click.option("--seed", "rng_seed", default=2026)
def seed_demo(members, days, rng_seed):
    """Load the demo network once (refuses if units exist); prints the logins."""
    # Imported here: Faker is slow to import and only this command needs it.
    from ..demo import DEMO_PASSWORD, demo_logins, load_demo

    if db.session.scalar(select(Unit.id).limit(1)) is not None:
        click.echo("the database already has units; demo data is loaded only into an empty one")
        logins = demo_logins()
        if logins:
            click.echo(f"demo logins present (password {DEMO_PASSWORD}): " + ", ".join(logins))
        return
    logins = load_demo(members=members, days=days, seed=rng_seed, echo=click.echo)
    click.echo("demo logins (username / password):")
    for username, password, role in logins:
        click.echo(f"  {username:<15} {password:<13} {role}")
