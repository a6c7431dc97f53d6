"""collaborators: collaborator, sponsorship, user.collaborator_id; indexes for statements

Reviewed by hand: plain timestamptz for the UTC column. ``user.collaborator_id`` is added with
an inline REFERENCES clause on SQLite, which SQLite accepts without rebuilding the
``user`` table (a batch rebuild would drop a table that deposits, postings and the audit log
reference). Statements bucket journal entries and deposits by ``recorded_at``
(docs/rules.md §periods, §time (I11)), hence the two (unit_id, recorded_at) indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 17:46:53.207256

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('collaborator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collaborator')),
    sa.UniqueConstraint('name', name=op.f('uq_collaborator_name'))
    )
    op.create_table('sponsorship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collaborator_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_sponsorship_dates_ordered')),
    sa.ForeignKeyConstraint(['collaborator_id'], ['collaborator.id'], name=op.f('fk_sponsorship_collaborator_id_collaborator')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_sponsorship_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sponsorship'))
    )
    op.create_index('ix_sponsorship_collaborator_unit', 'sponsorship', ['collaborator_id', 'unit_id'], unique=False)
    op.create_index(op.f('ix_sponsorship_unit_id'), 'sponsorship', ['unit_id'], unique=False)
    op.create_index('ix_deposit_unit_recorded', 'deposit', ['unit_id', 'recorded_at'], unique=False)
    op.create_index('ix_journal_entry_unit_recorded', 'journal_entry', ['unit_id', 'recorded_at'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE "user" ADD COLUMN collaborator_id INTEGER '
                   'CONSTRAINT fk_user_collaborator_id_collaborator REFERENCES collaborator (id)')
    else:
        op.add_column('user', sa.Column('collaborator_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_user_collaborator_id_collaborator', 'user', 'collaborator',
                              ['collaborator_id'], ['id'])
    op.create_index(op.f('ix_user_collaborator_id'), 'user', ['collaborator_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_user_collaborator_id'), table_name='user')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite ≥ 3.35 drops a column that no index uses; its inline REFERENCES goes with it.
        op.execute('ALTER TABLE "user" DROP COLUMN collaborator_id')
    else:
        op.drop_constraint('fk_user_collaborator_id_collaborator', 'user', type_='foreignkey')
        op.drop_column('user', 'collaborator_id')
    op.drop_index('ix_journal_entry_unit_recorded', table_name='journal_entry')
    op.drop_index('ix_deposit_unit_recorded', table_name='deposit')
    op.drop_index(op.f('ix_sponsorship_unit_id'), table_name='sponsorship')
    op.drop_index('ix_sponsorship_collaborator_unit', table_name='sponsorship')
    op.drop_table('sponsorship')
    op.drop_table('collaborator')
