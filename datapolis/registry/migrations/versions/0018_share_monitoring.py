"""sharing monitoring: hourly call rollup, latency histogram, monitor state, alerts

Revision ID: 0018_share_monitoring
Revises: 0017_share_calls
Create Date: 2026-11-24 21:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018_share_monitoring'
down_revision: str | None = '0017_share_calls'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('share_call_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumer_org_id', sa.Integer(), nullable=True),
    sa.Column('provider_org_id', sa.Integer(), nullable=True),
    sa.Column('app_id', sa.Integer(), nullable=True),
    sa.Column('resource_code', sa.String(length=64), nullable=True),
    sa.Column('interface', sa.String(length=16), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.Column('refused', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('latency_sum', sa.Float(), nullable=False),
    sa.Column('latency_min', sa.Float(), nullable=False),
    sa.Column('latency_max', sa.Float(), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_call_hours'))
    )
    op.create_index(op.f('ix_share_call_hours_hour'), 'share_call_hours', ['hour'], unique=False)
    op.create_index('ix_share_call_hours_hour_app', 'share_call_hours', ['hour', 'app_id'],
                    unique=False)
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
    op.create_table('share_monitor_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_call_id', sa.BigInteger(), nullable=False),
    sa.Column('rolled_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_monitor_state'))
    )
    # The one watermark row exists from the start, so concurrent first runs lock it rather
    # than race to create it.
    op.execute("INSERT INTO share_monitor_state (id, last_call_id) VALUES (1, 0)")
    op.create_table('share_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('consumer_org_id', sa.Integer(), nullable=True),
    sa.Column('provider_org_id', sa.Integer(), nullable=True),
    sa.Column('app_id', sa.Integer(), nullable=True),
    sa.Column('resource_code', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('observed', sa.Float(), nullable=True),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.Column('ack_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['api_apps.id'],
                            name=op.f('fk_share_alerts_app_id_api_apps')),
    sa.ForeignKeyConstraint(['consumer_org_id'], ['organisations.id'],
                            name=op.f('fk_share_alerts_consumer_org_id_organisations')),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'],
                            name=op.f('fk_share_alerts_provider_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_alerts')),
    sa.UniqueConstraint('key', name=op.f('uq_share_alerts_key'))
    )
    op.create_index('ix_share_alerts_kind_seen', 'share_alerts', ['kind', 'last_seen_at'],
                    unique=False)
    op.create_index(op.f('ix_share_alerts_consumer_org_id'), 'share_alerts',
                    ['consumer_org_id'], unique=False)
    op.create_index(op.f('ix_share_alerts_provider_org_id'), 'share_alerts',
                    ['provider_org_id'], unique=False)


def downgrade() -> None:
    op.drop_table('share_alerts')
    op.drop_table('share_monitor_state')
    op.drop_index(op.f('ix_share_latency_hours_hour'), table_name='share_latency_hours')
    op.drop_table('share_latency_hours')
    op.drop_index('ix_share_call_hours_hour_app', table_name='share_call_hours')
    op.drop_index(op.f('ix_share_call_hours_hour'), table_name='share_call_hours')
    op.drop_table('share_call_hours')
