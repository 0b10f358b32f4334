"""share_calls: one record per interface call (metering), indexed for the monitoring queries

Revision ID: 0017_share_calls
Revises: 0016_sharing_core
Create Date: 2026-11-24 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_share_calls'
down_revision: str | None = '0016_sharing_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('share_calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_id', sa.String(length=32), nullable=False),
    sa.Column('request_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumer_org_id', sa.Integer(), nullable=True),
    sa.Column('app_id', sa.Integer(), nullable=True),
    sa.Column('provider_org_id', sa.Integer(), nullable=True),
    sa.Column('resource_code', sa.String(length=64), nullable=True),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('interface', sa.String(length=16), nullable=False),
    sa.Column('params_hash', sa.String(length=64), nullable=False),
    sa.Column('rows_out', sa.BigInteger(), nullable=False),
    sa.Column('bytes_out', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.SmallInteger(), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_calls')),
    sa.UniqueConstraint('record_id', name=op.f('uq_share_calls_record_id'))
    )
    op.create_index('ix_share_calls_request_at', 'share_calls', ['request_at'], unique=False)
    op.create_index('ix_share_calls_app_time', 'share_calls', ['app_id', 'request_at'],
                    unique=False)
    op.create_index('ix_share_calls_consumer_time', 'share_calls',
                    ['consumer_org_id', 'request_at'], unique=False)
    op.create_index('ix_share_calls_provider_time', 'share_calls',
                    ['provider_org_id', 'request_at'], unique=False)
    op.create_index('ix_share_calls_resource_time', 'share_calls',
                    ['resource_code', 'request_at'], unique=False)
    op.create_index('ix_share_calls_grant_time', 'share_calls', ['grant_id', 'request_at'],
                    unique=False)


def downgrade() -> None:
    for name in ('grant_time', 'resource_time', 'provider_time', 'consumer_time', 'app_time',
                 'request_at'):
        op.drop_index(f'ix_share_calls_{name}', table_name='share_calls')
    op.drop_table('share_calls')
