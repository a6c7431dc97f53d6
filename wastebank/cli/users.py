"""Logins: ``user create|deactivate``, ``token create``."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..auth.tokens import create_token, end_all_sessions
from ..models import ROLES
from ..services.audit import audit
from ..services.org import create_user
from .common import aggregator_by_code, collaborator_by_name, unit_by_code, user_by_name, write

user = AppGroup("user", help="Users.")
token = AppGroup("token", help="API bearer tokens.")


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
    scope = {"unit": unit_by_code(unit_code) if unit_code else None,
             "aggregator": aggregator_by_code(aggregator_code) if aggregator_code else None,
             "collaborator": collaborator_by_name(collaborator_name) if collaborator_name else None}
    new = write(lambda: create_user(username, role, password, full_name=full_name, **scope))
    shown = new.unit.code if new.unit else (new.aggregator.code if new.aggregator else (collaborator_name or "all"))
    click.echo(f"user {new.username} created: role {new.role}, scope {shown} (id {new.id})")


@user.command("deactivate")
@click.argument("username")
def user_deactivate(username):
    """Deactivate USERNAME: every session and token ends at once."""
    found = user_by_name(username)

    def deactivate() -> None:
        found.active = False
        end_all_sessions(found)
        audit("user.deactivate", unit_id=found.unit_id, user_id=None, object_type="user", object_id=username,
              details={"role": found.role}, device="cli")

    write(deactivate)
    click.echo(f"user {username} deactivated")


@token.command("create")
@click.argument("username")
@click.option("--label", default="")
def token_create(username, label):
    """Print a new bearer token for USERNAME (shown once)."""
    found = user_by_name(username, active=True)
    click.echo(write(lambda: create_token(found, label)))
