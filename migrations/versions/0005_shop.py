"""products, accounts, ledger, idempotency records

Revision ID: 23e21ff288d1
Revises: 6a647d926a22
Create Date: 2026-11-22 18:04:33.698914

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '23e21ff288d1'
down_revision = '6a647d926a22'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True, comment='the first response, byte for byte'),
    sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'route', 'key', name=op.f('uq_idempotency_records_user_id_route_key'))
    )
    op.create_index(op.f('ix_idempotency_records_created_at'), 'idempotency_records', ['created_at'], unique=False)
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('balance_cents >= 0', name=op.f('ck_accounts_balance_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_accounts_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('user_id', name=op.f('uq_accounts_user_id'))
    )
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('price_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('image_url', sa.String(length=1000), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('search', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple', name || ' ' || description)", persisted=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price_cents > 0', name=op.f('ck_products_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_products_stock_not_negative')),
    sa.CheckConstraint('version > 0', name=op.f('ck_products_version_positive')),
    sa.ForeignKeyConstraint(['seller_id'], ['users.id'], name=op.f('fk_products_seller_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products'))
    )
    op.create_index('ix_products_listed_category_price', 'products', ['category', 'price_cents', 'id'], unique=False, postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.create_index('ix_products_listed_created', 'products', ['created_at', 'id'], unique=False, postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.create_index('ix_products_listed_name', 'products', ['name', 'id'], unique=False, postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.create_index('ix_products_listed_price', 'products', ['price_cents', 'id'], unique=False, postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.create_index('ix_products_search', 'products', ['search'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_products_seller_id'), 'products', ['seller_id'], unique=False)
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('deposit', 'withdrawal', 'payment', 'refund', name='ledger_entry_kind'), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_cents', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True, comment='e.g. order:42 (one payment per order)'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.CheckConstraint('balance_after_cents >= 0', name=op.f('ck_ledger_entries_balance_after_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ledger_entries_account_id_accounts'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    op.create_index('ix_ledger_entries_account_id_id', 'ledger_entries', ['account_id', 'id'], unique=False)
    op.create_index('uq_ledger_entries_reference', 'ledger_entries', ['account_id', 'kind', 'reference'], unique=True, postgresql_where='reference IS NOT NULL')


def downgrade():
    op.drop_index('uq_ledger_entries_reference', table_name='ledger_entries', postgresql_where='reference IS NOT NULL')
    op.drop_index('ix_ledger_entries_account_id_id', table_name='ledger_entries')
    op.drop_table('ledger_entries')
    op.drop_index(op.f('ix_products_seller_id'), table_name='products')
    op.drop_index('ix_products_search', table_name='products', postgresql_using='gin')
    op.drop_index('ix_products_listed_price', table_name='products', postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.drop_index('ix_products_listed_name', table_name='products', postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.drop_index('ix_products_listed_created', table_name='products', postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.drop_index('ix_products_listed_category_price', table_name='products', postgresql_where=sa.text('active AND deleted_at IS NULL'))
    op.drop_table('products')
    op.drop_table('accounts')
    op.drop_index(op.f('ix_idempotency_records_created_at'), table_name='idempotency_records')
    op.drop_table('idempotency_records')
    sa.Enum(name='ledger_entry_kind').drop(op.get_bind())
