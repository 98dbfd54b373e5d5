"""events, members, comments, reminders; user time zone; delivery topics

Revision ID: 6a647d926a22
Revises: 2027fd35d108
Create Date: 2026-11-22 17:51:58.375421

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a647d926a22'
down_revision = '2027fd35d108'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False, comment='zone the reminders are aligned in'),
    sa.Column('is_budget', sa.Boolean(), nullable=False),
    sa.Column('budget', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('reminder', sa.Enum('once', 'periodical', name='reminder_kind'), nullable=False),
    sa.Column('schedule_period', sa.Enum('1 day', '1 week', '1 month', name='schedule_period'), nullable=False),
    sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('budget IS NULL OR budget >= 0', name=op.f('ck_events_budget_not_negative')),
    sa.CheckConstraint('is_budget OR budget IS NULL', name=op.f('ck_events_budget_only_when_budgeted')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_events_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_events_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('id', 'group_id', name=op.f('uq_events_id_group_id'))
    )
    op.create_index(op.f('ix_events_created_by_id'), 'events', ['created_by_id'], unique=False)
    op.create_index(op.f('ix_events_group_id'), 'events', ['group_id'], unique=False)
    op.create_index('ix_events_next_reminder_at', 'events', ['next_reminder_at'], unique=False, postgresql_where=sa.text('next_reminder_at IS NOT NULL'))
    op.create_table('event_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_comments_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_comments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_comments'))
    )
    op.create_index('ix_event_comments_event_id_created_at', 'event_comments', ['event_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_event_comments_user_id'), 'event_comments', ['user_id'], unique=False)
    op.create_table('event_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['event_id', 'group_id'], ['events.id', 'events.group_id'], name='fk_event_members_event_group', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id', 'user_id'], ['group_members.group_id', 'group_members.user_id'], name='fk_event_members_group_member', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_members')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_event_members_event_id_user_id'))
    )
    op.create_index('ix_event_members_group_id_user_id', 'event_members', ['group_id', 'user_id'], unique=False)
    op.create_index('ix_event_members_user_id', 'event_members', ['user_id'], unique=False)
    op.create_table('event_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('trigger_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Enum('scheduled', 'manual', name='event_reminder_kind'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_reminders_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_reminders')),
    sa.UniqueConstraint('event_id', 'trigger_at', name=op.f('uq_event_reminders_event_id_trigger_at'))
    )
    op.add_column('notification_deliveries', sa.Column('topic', sa.String(length=100), nullable=True, comment='what it was about, e.g. group:1/event:2'))
    op.create_index('ix_notification_deliveries_topic', 'notification_deliveries', ['topic'], unique=False, postgresql_ops={'topic': 'text_pattern_ops'})
    op.add_column('users', sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    op.drop_column('users', 'timezone')
    op.drop_index('ix_notification_deliveries_topic', table_name='notification_deliveries', postgresql_ops={'topic': 'text_pattern_ops'})
    op.drop_column('notification_deliveries', 'topic')
    op.drop_table('event_reminders')
    op.drop_index('ix_event_members_user_id', table_name='event_members')
    op.drop_index('ix_event_members_group_id_user_id', table_name='event_members')
    op.drop_table('event_members')
    op.drop_index(op.f('ix_event_comments_user_id'), table_name='event_comments')
    op.drop_index('ix_event_comments_event_id_created_at', table_name='event_comments')
    op.drop_table('event_comments')
    op.drop_index('ix_events_next_reminder_at', table_name='events', postgresql_where=sa.text('next_reminder_at IS NOT NULL'))
    op.drop_index(op.f('ix_events_group_id'), table_name='events')
    op.drop_index(op.f('ix_events_created_by_id'), table_name='events')
    op.drop_table('events')
    for enum_name in ('reminder_kind', 'schedule_period', 'event_reminder_kind'):
        sa.Enum(name=enum_name).drop(op.get_bind())
