"""portal usage counts: views, downloads and API calls per dataset and day

Revision ID: 0020_portal_usage
Revises: 0019_share_gateway
Create Date: 2026-11-24 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020_portal_usage'
down_revision: str | None = '0019_share_gateway'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('portal_usage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_code', sa.String(length=40), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_usage')),
    sa.UniqueConstraint('dataset_code', 'day', 'kind',
                        name=op.f('uq_portal_usage_dataset_code_day_kind'))
    )
    with op.batch_alter_table('portal_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_usage_dataset_code'), ['dataset_code'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_portal_usage_org_code'), ['org_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_usage_day'), ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_usage_day'))
        batch_op.drop_index(batch_op.f('ix_portal_usage_org_code'))
        batch_op.drop_index(batch_op.f('ix_portal_usage_dataset_code'))
    op.drop_table('portal_usage')
