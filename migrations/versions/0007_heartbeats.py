"""heartbeats of the background loops

Revision ID: 1d9640403a7d
Revises: 02823f50d0f0
Create Date: 2026-11-29 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1d9640403a7d'
down_revision = '02823f50d0f0'
branch_labels = None
depends_on = None


def upgrade():
    # One row per background loop per process (relay, scheduler, consumer:<queue>); written by an UPSERT at
    # most every HEARTBEAT_SECONDS, purged after a day of silence by the scheduler's heartbeats.purge job.
    op.create_table('heartbeats',
    sa.Column('component', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_beat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('component', 'host', 'pid', name=op.f('pk_heartbeats'))
    )


def downgrade():
    op.drop_table('heartbeats')
