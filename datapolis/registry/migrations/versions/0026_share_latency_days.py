"""sharing monitoring: the latency histogram per city day instead of per hour

An hour and interface often hold a handful of calls, so an hourly histogram was nearly as large
as the call records it summarises. The histogram is derived data: the monitor's watermark is
reset so the next runs re-roll every hour and day from share_calls.

Revision ID: 0026_share_latency_days
Revises: 0025_quality_schedules
Create Date: 2026-11-24 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026_share_latency_days'
down_revision: str | None = '0025_quality_schedules'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f('ix_share_latency_hours_hour'), table_name='share_latency_hours')
    op.drop_table('share_latency_hours')
    op.create_table('share_latency_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resource_code', sa.String(length=64), nullable=True),
    sa.Column('interface', sa.String(length=16), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_latency_days'))
    )
    op.create_index(op.f('ix_share_latency_days_day'), 'share_latency_days', ['day'],
                    unique=False)
    op.execute("UPDATE share_monitor_state SET last_call_id = 0, rolled_until = NULL")


def downgrade() -> None:
    op.drop_index(op.f('ix_share_latency_days_day'), table_name='share_latency_days')
    op.drop_table('share_latency_days')
    op.create_table('share_latency_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resource_code', sa.String(length=64), nullable=True),
    sa.Column('interface', sa.String(length=16), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_latency_hours'))
    )
    op.create_index(op.f('ix_share_latency_hours_hour'), 'share_latency_hours', ['hour'],
                    unique=False)
    op.execute("UPDATE share_monitor_state SET last_call_id = 0, rolled_until = NULL")
