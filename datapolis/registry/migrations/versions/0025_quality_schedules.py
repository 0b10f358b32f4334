"""quality schedules: a table's rules checked on a schedule as well as after every sync

Revision ID: 0025_quality_schedules
Revises: 0024_portal_public
Create Date: 2026-11-24 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025_quality_schedules'
down_revision: str | None = '0024_portal_public'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quality_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_table', sa.String(length=130), nullable=False),
    sa.Column('schedule', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_schedules')),
    sa.UniqueConstraint('warehouse_table', name=op.f('uq_quality_schedules_warehouse_table'))
    )


def downgrade() -> None:
    op.drop_table('quality_schedules')
