"""ingest: schema changes

Revision ID: 0004_schema_changes
Revises: 0003_sync_jobs
Create Date: 2026-11-24 13:39:36.095685
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_schema_changes'
down_revision: str | None = '0003_sync_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('schema_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('column', sa.String(length=128), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('old_type', sa.String(length=64), nullable=True),
    sa.Column('new_type', sa.String(length=64), nullable=True),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['sync_jobs.id'], name=op.f('fk_schema_changes_job_id_sync_jobs')),
    sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_schema_changes_run_id_sync_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schema_changes'))
    )
    with op.batch_alter_table('schema_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schema_changes_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_schema_changes_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('schema_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schema_changes_run_id'))
        batch_op.drop_index(batch_op.f('ix_schema_changes_job_id'))

    op.drop_table('schema_changes')
