"""sharing gateway: apps' sealed signing secrets and bulk deliveries

Revision ID: 0019_share_gateway
Revises: 0018_share_monitoring
Create Date: 2026-11-24 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019_share_gateway'
down_revision: str | None = '0018_share_monitoring'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('share_signing_secrets',
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('sealed', sa.String(length=255), nullable=False),
    sa.Column('secret_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['api_apps.id'],
                            name=op.f('fk_share_signing_secrets_app_id_api_apps')),
    sa.PrimaryKeyConstraint('app_id', name=op.f('pk_share_signing_secrets'))
    )
    op.create_table('share_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('resource_code', sa.String(length=40), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['app_id'], ['api_apps.id'],
                            name=op.f('fk_share_exports_app_id_api_apps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_exports')),
    sa.UniqueConstraint('code', name=op.f('uq_share_exports_code'))
    )
    with op.batch_alter_table('share_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_exports_app_id'), ['app_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('share_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_exports_app_id'))
    op.drop_table('share_exports')
    op.drop_table('share_signing_secrets')
