"""users, organizations, mobile verifications, outbox

Revision ID: 452ea09924cb
Revises: 
Create Date: 2026-11-22 17:29:08.439063

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '452ea09924cb'
down_revision = None
branch_labels = None
depends_on = None

# Reference data (the banks of the original Torium seed): `url` is the "pay your share" link.
SEED_ORGANIZATIONS = [
    {"name": "PKO", "url": "https://www.pkobp.pl/", "logo_key": "pko.png"},
    {"name": "Pekao", "url": "https://www.pekao.com.pl/", "logo_key": "pekao.png"},
    {"name": "ING", "url": "https://www.ing.pl/", "logo_key": "ing.png"},
]


def upgrade():
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('logo_key', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('name', name=op.f('uq_organizations_name'))
    )
    organizations = sa.table(
        "organizations", sa.column("name", sa.String), sa.column("url", sa.String), sa.column("logo_key", sa.String)
    )
    op.bulk_insert(organizations, SEED_ORGANIZATIONS)
    op.create_table('outbox_messages',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('queue', sa.String(length=50), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    op.create_index('ix_outbox_messages_pending', 'outbox_messages', ['available_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))
    op.create_table('processed_messages',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processed_messages'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cognito_sub', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=True),
    sa.Column('mobile_number', sa.String(length=20), nullable=True),
    sa.Column('reminder_preferences', sa.Enum('SMS', 'EMAIL', 'PUSH', name='reminder_preference'), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('device_token', sa.String(length=1024), nullable=True),
    sa.Column('device_arn', sa.String(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_users_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('cognito_sub', name=op.f('uq_users_cognito_sub'))
    )
    op.create_index('ix_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=False)
    op.create_index(op.f('ix_users_organization_id'), 'users', ['organization_id'], unique=False)
    op.create_table('mobile_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mobile_number', sa.String(length=20), nullable=False),
    sa.Column('code_salt', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_mobile_verifications_attempts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mobile_verifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_verifications'))
    )
    op.create_index(op.f('ix_mobile_verifications_user_id'), 'mobile_verifications', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_mobile_verifications_user_id'), table_name='mobile_verifications')
    op.drop_table('mobile_verifications')
    op.drop_index(op.f('ix_users_organization_id'), table_name='users')
    op.drop_index('ix_users_email_lower', table_name='users')
    op.drop_table('users')
    op.drop_table('processed_messages')
    op.drop_index('ix_outbox_messages_pending', table_name='outbox_messages', postgresql_where=sa.text('sent_at IS NULL'))
    op.drop_table('outbox_messages')
    op.drop_table('organizations')
    sa.Enum(name='reminder_preference').drop(op.get_bind())
