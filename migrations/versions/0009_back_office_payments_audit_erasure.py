"""back office, sellers paid, money in through a provider, audit log, erasure

New ledger kinds (settlement, sale, fee, reversals, shortfall cover, adjustment, payout return) and the order
status refunded; the platform's two accounts (fees, escrow) beside the users' wallets; order lines remember their
seller and the platform's fee; payouts; the payment provider's events (one per event id); the audit log; roles as
the API knows them (revocations refuse older tokens); users keep their Cognito username and can be erased.

Revision ID: 8b2d2f14372f
Revises: b14b2e805cd0
Create Date: 2026-11-29 20:30:14.546630

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '8b2d2f14372f'
down_revision = 'b14b2e805cd0'
branch_labels = None
depends_on = None

NEW_LEDGER_KINDS = ('settlement', 'sale', 'fee', 'sale_reversal', 'fee_reversal', 'shortfall_cover', 'adjustment',
                    'payout_return')


def upgrade():
    # ALTER TYPE ... ADD VALUE: a value added in a transaction cannot be used before it commits (and before
    # PostgreSQL 12 cannot be added in one at all): added and committed on their own, before anything else.
    with op.get_context().autocommit_block():
        for kind in NEW_LEDGER_KINDS:
            op.execute(f"ALTER TYPE ledger_entry_kind ADD VALUE IF NOT EXISTS '{kind}'")
        op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded'")

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index('ix_audit_entries_action_id', 'audit_entries', ['action', 'id'], unique=False)
    op.create_index('ix_audit_entries_actor_id_id', 'audit_entries', ['actor_id', 'id'], unique=False)
    op.create_index('ix_audit_entries_created_at', 'audit_entries', ['created_at'], unique=False)
    op.create_index('ix_audit_entries_target', 'audit_entries', ['target_type', 'target_id', 'id'], unique=False)
    op.create_table('payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('credited', sa.Boolean(), nullable=False, comment='a wallet was credited (payment.succeeded)'),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount_cents IS NULL OR amount_cents > 0', name=op.f('ck_payment_events_amount_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payment_events_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events')),
    sa.UniqueConstraint('provider_event_id', name=op.f('uq_payment_events_provider_event_id'))
    )
    op.create_index(op.f('ix_payment_events_user_id'), 'payment_events', ['user_id'], unique=False)
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('requested', 'paid', 'failed', name='payout_status'), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True, comment="the admin's, when paid or failed"),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payouts_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts'))
    )
    op.create_index('ix_payouts_status_id', 'payouts', ['status', 'id'], unique=False)
    op.create_index('ix_payouts_user_id_id', 'payouts', ['user_id', 'id'], unique=False)
    op.create_table('user_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('admin', 'seller', name='app_role'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cognito_synced_at', sa.DateTime(timezone=True), nullable=True, comment='when the workers last made the Cognito group match this row'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_roles')),
    sa.UniqueConstraint('user_id', 'role', name=op.f('uq_user_roles_user_id_role'))
    )
    account_kind = postgresql.ENUM('wallet', 'platform', 'escrow', name='account_kind')
    account_kind.create(op.get_bind())  # add_column, unlike create_table, does not create the type
    op.add_column('accounts', sa.Column('kind', account_kind, server_default='wallet', nullable=False))
    op.alter_column('accounts', 'user_id',
               existing_type=sa.INTEGER(),
               nullable=True)
    op.create_index('uq_accounts_system_kind', 'accounts', ['kind'], unique=True, postgresql_where=sa.text('user_id IS NULL'))
    op.create_check_constraint(op.f('ck_accounts_wallets_have_owners'), 'accounts',
                               "(kind = 'wallet') = (user_id IS NOT NULL)")
    op.add_column('order_lines', sa.Column('seller_id', sa.Integer(), nullable=True, comment="the product's seller when it was ordered: who is paid"))
    op.add_column('order_lines', sa.Column('fee_cents', sa.BigInteger(), server_default='0', nullable=False, comment="the platform's share, fixed when ordered (PLATFORM_FEE_BPS)"))
    # Lines ordered before: their product's seller (who is paid when they complete); no fee (what they were sold at).
    op.execute("UPDATE order_lines SET seller_id = products.seller_id FROM products "
               "WHERE products.id = order_lines.product_id")
    op.alter_column('order_lines', 'seller_id', existing_type=sa.Integer(), nullable=False)
    op.create_check_constraint(op.f('ck_order_lines_fee_within_line'), 'order_lines',
                               'fee_cents >= 0 AND fee_cents <= unit_price_cents * quantity')
    op.create_index(op.f('ix_order_lines_seller_id'), 'order_lines', ['seller_id'], unique=False)
    op.create_foreign_key(op.f('fk_order_lines_seller_id_users'), 'order_lines', 'users', ['seller_id'], ['id'], ondelete='RESTRICT')
    op.add_column('orders', sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True, comment='when escrow paid the sellers and the fee (NULL: completed before payouts)'))
    op.add_column('orders', sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('cognito_username', sa.String(length=128), nullable=True, comment="Cognito's Username, for the workers' admin calls (NULL: the sub is the username)"))
    op.add_column('users', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True, comment='erased: personal data gone; the sub stays so its tokens stay refused'))
    # Orders paid but not yet completed were charged into nothing: escrow now holds their money, as a charge does
    # from here on, so that completing (sellers paid) or cancelling (buyer refunded) them moves money that exists.
    # Orders completed before this revision stay unsettled (settled_at NULL): their money was never anyone's.
    op.execute("""
        INSERT INTO accounts (kind, currency, balance_cents)
        SELECT 'escrow', currency, 0 FROM orders WHERE status = 'paid' LIMIT 1
        ON CONFLICT (kind) WHERE user_id IS NULL DO NOTHING""")
    op.execute("""
        INSERT INTO ledger_entries (account_id, kind, amount_cents, balance_after_cents, reference)
        SELECT a.id, 'payment', o.total_cents, SUM(o.total_cents) OVER (ORDER BY o.id), 'order:' || o.id
        FROM orders o JOIN accounts a ON a.kind = 'escrow' AND a.user_id IS NULL
        WHERE o.status = 'paid'""")
    op.execute("""
        UPDATE accounts SET balance_cents = (SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries
                                             WHERE account_id = accounts.id)
        WHERE kind = 'escrow' AND user_id IS NULL""")


def downgrade():
    # The added enum values stay (PostgreSQL cannot drop one); the escrow and platform accounts must be empty and are
    # removed with the column that tells them apart.
    op.execute("DELETE FROM ledger_entries WHERE account_id IN (SELECT id FROM accounts WHERE user_id IS NULL)")
    op.execute("DELETE FROM accounts WHERE user_id IS NULL")
    op.drop_column('users', 'deleted_at')
    op.drop_column('users', 'cognito_username')
    op.drop_column('orders', 'refunded_at')
    op.drop_column('orders', 'settled_at')
    op.drop_constraint(op.f('fk_order_lines_seller_id_users'), 'order_lines', type_='foreignkey')
    op.drop_index(op.f('ix_order_lines_seller_id'), table_name='order_lines')
    op.drop_constraint(op.f('ck_order_lines_fee_within_line'), 'order_lines', type_='check')
    op.drop_column('order_lines', 'fee_cents')
    op.drop_column('order_lines', 'seller_id')
    op.drop_constraint(op.f('ck_accounts_wallets_have_owners'), 'accounts', type_='check')
    op.drop_index('uq_accounts_system_kind', table_name='accounts', postgresql_where=sa.text('user_id IS NULL'))
    op.alter_column('accounts', 'user_id',
               existing_type=sa.INTEGER(),
               nullable=False)
    op.drop_column('accounts', 'kind')
    sa.Enum(name='account_kind').drop(op.get_bind())
    op.drop_table('user_roles')
    sa.Enum(name='app_role').drop(op.get_bind())
    op.drop_index('ix_payouts_user_id_id', table_name='payouts')
    op.drop_index('ix_payouts_status_id', table_name='payouts')
    op.drop_table('payouts')
    sa.Enum(name='payout_status').drop(op.get_bind())
    op.drop_index(op.f('ix_payment_events_user_id'), table_name='payment_events')
    op.drop_table('payment_events')
    op.drop_index('ix_audit_entries_target', table_name='audit_entries')
    op.drop_index('ix_audit_entries_created_at', table_name='audit_entries')
    op.drop_index('ix_audit_entries_actor_id_id', table_name='audit_entries')
    op.drop_index('ix_audit_entries_action_id', table_name='audit_entries')
    op.drop_table('audit_entries')
