"""Admin commands (``flask --app wastebank …``), one module per group of the README's list.
Each command prints what it created; a refusal prints ``error: …`` and exits with status 1.

A new command group is a ``flask.cli.AppGroup`` in a module of its own (``cli/<name>.py``):
import the module below and add its group to :data:`COMMAND_GROUPS`; ``register`` attaches it.
"""
from __future__ import annotations

from flask import Flask

from ..notifications.cli import notify
from ..reports.export_cli import export
from . import catalogue, ledger, members, org, seed, statements, users
from . import month_lock as _month_lock  # noqa: F401  (ledger lock/unlock, on the ledger group)

#: Every command group, in the README's order ("Admin commands").
COMMAND_GROUPS = [
    org.aggregator,
    org.unit,
    catalogue.category,
    catalogue.price,
    users.user,
    users.token,
    members.member,
    org.collaborator,
    statements.statement,
    export,
    notify,
    ledger.ledger,
    seed.seed,
]


def register(app: Flask) -> None:
    """Attach every group of :data:`COMMAND_GROUPS` to ``app.cli``."""
    for group in COMMAND_GROUPS:
        app.cli.add_command(group)
