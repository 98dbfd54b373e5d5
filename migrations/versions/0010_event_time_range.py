"""events.starts_at within what every zone can show

Rows written before input was held to 1970-2999 may hold instants that no Python datetime can show in a
zone east or west of UTC (9999-12-31 23:30 UTC is year 10000 in Tokyo), which made GET /event fail for their
members. Clamp them a day inside the representable range, and refuse such instants from now on.

Revision ID: 6b1e0c7d2f10
Revises: 8b2d2f14372f
Create Date: 2026-11-29 21:40:00
"""
from alembic import op


revision = '6b1e0c7d2f10'
down_revision = '8b2d2f14372f'
branch_labels = None
depends_on = None

LOW, HIGH = "'0001-01-02 00:00+00'", "'9999-12-30 00:00+00'"


def upgrade():
    op.execute(f"UPDATE events SET starts_at = {HIGH}::timestamptz - interval '1 minute' WHERE starts_at >= {HIGH}")
    op.execute(f"UPDATE events SET starts_at = {LOW}::timestamptz + interval '1 minute' WHERE starts_at <= {LOW}")
    op.create_check_constraint("ck_events_starts_at_in_range", "events", f"starts_at > {LOW} AND starts_at < {HIGH}")


def downgrade():
    op.drop_constraint("ck_events_starts_at_in_range", "events", type_="check")
