"""api_token.last_used_at and expires_at: bearer and device tokens end when unused

``expires_at`` (NOT NULL) is when the token stops working unless used; every use moves it to
``last_used_at + API_TOKEN_IDLE_DAYS`` (written at most once per ``API_TOKEN_TOUCH_SECONDS``,
see ``auth/tokens.py``). Tokens issued before this revision get 30 days from the upgrade, so
that no tablet is logged out by the upgrade itself (issue 10 item 4).

Revision ID: 0008
Revises: 0007
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("api_token", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    expires = datetime.now(timezone.utc) + timedelta(days=30)
    if op.get_bind().dialect.name == "sqlite":
        expires = expires.replace(tzinfo=None)  # UTCDateTime stores naive UTC text on SQLite
    op.get_bind().execute(sa.text("UPDATE api_token SET expires_at = :expires"), {"expires": expires})
    # SQLite cannot add NOT NULL to a column in place: batch mode copies the small table.
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f("ix_api_token_expires_at"), ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_expires_at"))
        batch_op.drop_column("expires_at")
        batch_op.drop_column("last_used_at")
