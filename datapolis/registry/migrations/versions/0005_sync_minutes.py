"""ingest: rows and lag per job and minute

Revision ID: 0005_sync_minutes
Revises: 0004_schema_changes
Create Date: 2026-11-24 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_sync_minutes'
down_revision: str | None = '0004_schema_changes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sync_minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('lag_max', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['sync_jobs.id'], name=op.f('fk_sync_minutes_job_id_sync_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_minutes')),
    sa.UniqueConstraint('job_id', 'minute', name=op.f('uq_sync_minutes_job_id_minute'))
    )


def downgrade() -> None:
    op.drop_table('sync_minutes')
