"""initial schema: organisations, users, members, catalogue, ledger, deposits

Reviewed by hand: timestamps are plain timestamptz (the UTCDateTime decorator is app-side),
the journal entry id sequence is PostgreSQL-only, and the ledger guards (docs/rules.md §ledger (I1,
I7, I10)) are written as triggers for each database at the end of upgrade().

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 17:08:25.452911

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE journal_entry_id_seq")
    op.create_table('aggregator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aggregator')),
    sa.UniqueConstraint('code', name=op.f('uq_aggregator_code'))
    )
    op.create_table('waste_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name_id', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=5), nullable=False),
    sa.Column('material_group', sa.String(length=30), nullable=False),
    sa.Column('max_line_milli', sa.BigInteger(), nullable=False),
    sa.Column('co2e_g_per_unit', sa.Integer(), nullable=False),
    sa.Column('co2e_source', sa.String(length=200), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.CheckConstraint("unit IN ('kg', 'L', 'pcs')", name=op.f('ck_waste_category_unit')),
    sa.CheckConstraint('max_line_milli > 0', name=op.f('ck_waste_category_max_line_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waste_category')),
    sa.UniqueConstraint('code', name=op.f('uq_waste_category_code'))
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('aggregator_id', sa.Integer(), nullable=True),
    sa.Column('rw', sa.String(length=10), nullable=False),
    sa.Column('kelurahan', sa.String(length=100), nullable=False),
    sa.Column('kecamatan', sa.String(length=100), nullable=False),
    sa.Column('kota', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('receipt_width_mm', sa.Integer(), nullable=False),
    sa.Column('fee_bp', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('fee_bp >= 0 AND fee_bp <= 3000', name=op.f('ck_unit_fee_range')),
    sa.CheckConstraint('receipt_width_mm IN (58, 80)', name=op.f('ck_unit_receipt_width')),
    sa.ForeignKeyConstraint(['aggregator_id'], ['aggregator.id'], name=op.f('fk_unit_aggregator_id_aggregator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_aggregator_id'), ['aggregator_id'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('member_no', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('rt', sa.String(length=10), nullable=False),
    sa.Column('rw', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('person', 'household', 'institution')", name=op.f('ck_member_kind')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_member_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('unit_id', 'member_no', name=op.f('uq_member_unit_id_member_no'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index('ix_member_unit_name', ['unit_id', 'name'], unique=False)

    op.create_table('receipt_counter',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_no', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_receipt_counter_unit_id_unit')),
    sa.PrimaryKeyConstraint('unit_id', 'year', name=op.f('pk_receipt_counter'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('aggregator_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'aggregator_staff', 'unit_manager', 'operator', 'collaborator')", name=op.f('ck_user_role')),
    sa.ForeignKeyConstraint(['aggregator_id'], ['aggregator.id'], name=op.f('fk_user_aggregator_id_aggregator')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_user_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_aggregator_id'), ['aggregator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_unit_id'), ['unit_id'], unique=False)

    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('normal_side', sa.String(length=1), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('held', sa.BigInteger(), nullable=False),
    sa.Column('quantity_milli', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind <> 'member_savings' OR balance >= 0", name=op.f('ck_account_savings_not_negative')),
    sa.CheckConstraint("normal_side IN ('D', 'C')", name=op.f('ck_account_normal_side')),
    sa.CheckConstraint('held >= 0', name=op.f('ck_account_held_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['waste_category.id'], name=op.f('fk_account_category_id_waste_category')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_account_member_id_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_account_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('member_id', name=op.f('uq_account_member_id')),
    sa.UniqueConstraint('unit_id', 'key', name=op.f('uq_account_unit_id_key'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('operation', sa.String(length=30), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_idempotency_record_unit_id_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_idempotency_record_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('unit_id', 'key', name=op.f('uq_idempotency_record_unit_id_key'))
    )
    op.create_table('journal_entry',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_journal_entry_created_by_id_user')),
    sa.ForeignKeyConstraint(['reverses_id'], ['journal_entry.id'], name=op.f('fk_journal_entry_reverses_id_journal_entry')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_journal_entry_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_journal_entry_reverses_id'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entry_unit_posted', ['unit_id', 'posted_at'], unique=False)

    op.create_table('member_card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_card_member_id_member')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_member_card_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_card')),
    sa.UniqueConstraint('token', name=op.f('uq_member_card_token'))
    )
    with op.batch_alter_table('member_card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_card_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_card_unit_id'), ['unit_id'], unique=False)

    op.create_table('price',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('buy_price_idr', sa.BigInteger(), nullable=False),
    sa.Column('sell_price_idr', sa.BigInteger(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('buy_price_idr > 0', name=op.f('ck_price_buy_positive')),
    sa.CheckConstraint('sell_price_idr >= 0', name=op.f('ck_price_sell_nonnegative')),
    sa.ForeignKeyConstraint(['category_id'], ['waste_category.id'], name=op.f('fk_price_category_id_waste_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_price_created_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_price_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price')),
    sa.UniqueConstraint('unit_id', 'category_id', 'effective_from', name=op.f('uq_price_unit_id_category_id_effective_from'))
    )
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_unit_id'), ['unit_id'], unique=False)

    op.create_table('deposit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('total_idr', sa.BigInteger(), nullable=False),
    sa.Column('fee_idr', sa.BigInteger(), nullable=False),
    sa.Column('credited_idr', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_idr', sa.BigInteger(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('void_entry_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('fee_idr >= 0 AND credited_idr >= 0', name=op.f('ck_deposit_parts_nonnegative')),
    sa.CheckConstraint('total_idr = fee_idr + credited_idr', name=op.f('ck_deposit_parts_sum')),
    sa.CheckConstraint('total_idr > 0', name=op.f('ck_deposit_total_positive')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_deposit_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_deposit_member_id_member')),
    sa.ForeignKeyConstraint(['operator_id'], ['user.id'], name=op.f('fk_deposit_operator_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_deposit_unit_id_unit')),
    sa.ForeignKeyConstraint(['void_entry_id'], ['journal_entry.id'], name=op.f('fk_deposit_void_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposit')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_deposit_entry_id')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_deposit_receipt_no')),
    sa.UniqueConstraint('void_entry_id', name=op.f('uq_deposit_void_entry_id'))
    )
    with op.batch_alter_table('deposit', schema=None) as batch_op:
        batch_op.create_index('ix_deposit_member_posted', ['member_id', 'posted_at'], unique=False)
        batch_op.create_index('ix_deposit_unit_posted', ['unit_id', 'posted_at'], unique=False)

    op.create_table('posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('quantity_milli', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_posting_amount_nonzero')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_posting_account_id_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_posting_entry_id_journal_entry'), initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_posting_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posting'))
    )
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.create_index('ix_posting_account', ['account_id', 'entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posting_entry_id'), ['entry_id'], unique=False)

    op.create_table('deposit_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deposit_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('quantity_milli', sa.BigInteger(), nullable=False),
    sa.Column('unit_price_idr', sa.BigInteger(), nullable=False),
    sa.Column('amount_idr', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_idr >= 0', name=op.f('ck_deposit_line_amount_nonnegative')),
    sa.CheckConstraint('quantity_milli > 0', name=op.f('ck_deposit_line_quantity_positive')),
    sa.CheckConstraint('unit_price_idr > 0', name=op.f('ck_deposit_line_price_positive')),
    sa.ForeignKeyConstraint(['category_id'], ['waste_category.id'], name=op.f('fk_deposit_line_category_id_waste_category')),
    sa.ForeignKeyConstraint(['deposit_id'], ['deposit.id'], name=op.f('fk_deposit_line_deposit_id_deposit')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_deposit_line_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposit_line'))
    )
    with op.batch_alter_table('deposit_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposit_line_deposit_id'), ['deposit_id'], unique=False)

    for statement in LEDGER_GUARDS_UP[bind.dialect.name]:
        op.execute(statement)



def downgrade():
    bind = op.get_bind()
    for statement in LEDGER_GUARDS_DOWN[bind.dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('deposit_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposit_line_deposit_id'))

    op.drop_table('deposit_line')
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posting_entry_id'))
        batch_op.drop_index('ix_posting_account')

    op.drop_table('posting')
    with op.batch_alter_table('deposit', schema=None) as batch_op:
        batch_op.drop_index('ix_deposit_unit_posted')
        batch_op.drop_index('ix_deposit_member_posted')

    op.drop_table('deposit')
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_unit_id'))

    op.drop_table('price')
    with op.batch_alter_table('member_card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_card_unit_id'))
        batch_op.drop_index(batch_op.f('ix_member_card_member_id'))

    op.drop_table('member_card')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entry_unit_posted')

    op.drop_table('journal_entry')
    op.drop_table('idempotency_record')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('account')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_unit_id'))
        batch_op.drop_index(batch_op.f('ix_user_aggregator_id'))

    op.drop_table('user')
    op.drop_table('receipt_counter')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index('ix_member_unit_name')

    op.drop_table('member')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_aggregator_id'))

    op.drop_table('unit')
    op.drop_table('waste_category')
    op.drop_table('aggregator')
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE journal_entry_id_seq")


# Ledger guards, frozen copy of wastebank/models/ledger_ddl.py at this revision.
LEDGER_GUARDS_UP = {'postgresql': ['CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                '       BEGIN\n'
                "         RAISE EXCEPTION 'ledger is append-only: % cannot be %', TG_TABLE_NAME, "
                'lower(TG_OP);\n'
                '       END $$',
                'CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON posting\n'
                '       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()',
                'CREATE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON '
                'journal_entry\n'
                '       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()',
                'CREATE FUNCTION posting_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$\n'
                '       BEGIN\n'
                '         IF EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id) THEN\n'
                "           RAISE EXCEPTION 'journal entry % is already written: postings cannot "
                "be added', NEW.entry_id;\n"
                '         END IF;\n'
                '         IF (SELECT unit_id FROM account WHERE id = NEW.account_id) IS DISTINCT '
                'FROM NEW.unit_id THEN\n'
                "           RAISE EXCEPTION 'posting and account belong to different units';\n"
                '         END IF;\n'
                '         RETURN NEW;\n'
                '       END $$',
                'CREATE TRIGGER posting_check_insert BEFORE INSERT ON posting\n'
                '       FOR EACH ROW EXECUTE FUNCTION posting_check_insert()',
                'CREATE FUNCTION journal_entry_check_balanced() RETURNS trigger LANGUAGE plpgsql '
                'AS $$\n'
                '       BEGIN\n'
                '         IF (SELECT count(*) FROM posting WHERE entry_id = NEW.id) < 2\n'
                '            OR (SELECT coalesce(sum(amount), 0) FROM posting WHERE entry_id = '
                'NEW.id) <> 0\n'
                '            OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id AND unit_id '
                '<> NEW.unit_id) THEN\n'
                "           RAISE EXCEPTION 'unbalanced journal entry %: postings must sum to "
                "zero', NEW.id;\n"
                '         END IF;\n'
                '         RETURN NEW;\n'
                '       END $$',
                'CREATE TRIGGER journal_entry_check_balanced AFTER INSERT ON journal_entry\n'
                '       FOR EACH ROW EXECUTE FUNCTION journal_entry_check_balanced()'],
 'sqlite': ['CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting\n'
            "       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: postings cannot be "
            "updated'); END",
            'CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting\n'
            "       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: postings cannot be "
            "deleted'); END",
            'CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry\n'
            "       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: journal entries cannot be "
            "updated'); END",
            'CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry\n'
            "       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: journal entries cannot be "
            "deleted'); END",
            'CREATE TRIGGER posting_entry_open BEFORE INSERT ON posting\n'
            '       WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id)\n'
            "       BEGIN SELECT RAISE(ABORT, 'journal entry is already written: postings cannot "
            "be added'); END",
            'CREATE TRIGGER posting_same_unit BEFORE INSERT ON posting\n'
            '       WHEN (SELECT unit_id FROM account WHERE id = NEW.account_id) IS NOT '
            'NEW.unit_id\n'
            "       BEGIN SELECT RAISE(ABORT, 'posting and account belong to different units'); "
            'END',
            'CREATE TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry\n'
            '       WHEN (SELECT count(*) FROM posting WHERE entry_id = NEW.id) < 2\n'
            '         OR (SELECT coalesce(sum(amount), 0) FROM posting WHERE entry_id = NEW.id) <> '
            '0\n'
            '         OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id AND unit_id <> '
            'NEW.unit_id)\n'
            "       BEGIN SELECT RAISE(ABORT, 'unbalanced journal entry: postings must sum to "
            "zero'); END"]}
LEDGER_GUARDS_DOWN = {'postgresql': ['DROP TRIGGER IF EXISTS journal_entry_check_balanced ON journal_entry',
                'DROP TRIGGER IF EXISTS posting_check_insert ON posting',
                'DROP TRIGGER IF EXISTS journal_entry_append_only ON journal_entry',
                'DROP TRIGGER IF EXISTS posting_append_only ON posting',
                'DROP FUNCTION IF EXISTS journal_entry_check_balanced()',
                'DROP FUNCTION IF EXISTS posting_check_insert()',
                'DROP FUNCTION IF EXISTS ledger_append_only()'],
 'sqlite': ['DROP TRIGGER IF EXISTS posting_no_update',
            'DROP TRIGGER IF EXISTS posting_no_delete',
            'DROP TRIGGER IF EXISTS journal_entry_no_update',
            'DROP TRIGGER IF EXISTS journal_entry_no_delete',
            'DROP TRIGGER IF EXISTS posting_entry_open',
            'DROP TRIGGER IF EXISTS posting_same_unit',
            'DROP TRIGGER IF EXISTS journal_entry_balanced']}
