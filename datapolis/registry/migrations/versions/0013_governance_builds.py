"""governance builds: every std and base table build with its counts

Revision ID: 0013_governance_builds
Revises: 0012_field_encryption
Create Date: 2026-11-24 19:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013_governance_builds'
down_revision: str | None = '0012_field_encryption'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('governance_builds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layer', sa.String(length=8), nullable=False),
    sa.Column('warehouse_table', sa.String(length=130), nullable=False),
    sa.Column('trigger', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('rows_in', sa.BigInteger(), nullable=True),
    sa.Column('rows_out', sa.BigInteger(), nullable=True),
    sa.Column('rows_changed', sa.BigInteger(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_governance_builds'))
    )
    op.create_index('ix_governance_builds_table_started', 'governance_builds', ['warehouse_table', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_governance_builds_table_started', table_name='governance_builds')
    op.drop_table('governance_builds')
