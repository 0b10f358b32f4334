"""quality: rules per warehouse table, runs, results per rule per run

Revision ID: 0014_quality
Revises: 0013_governance_builds
Create Date: 2026-11-24 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_quality'
down_revision: str | None = '0013_governance_builds'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quality_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_table', sa.String(length=130), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rules'))
    )
    op.create_index('ix_quality_rules_table', 'quality_rules', ['warehouse_table'], unique=False)
    op.create_table('quality_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_table', sa.String(length=130), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=True),
    sa.Column('changed_only', sa.Boolean(), nullable=False),
    sa.Column('change_column', sa.String(length=128), nullable=True),
    sa.Column('watermark', sa.Text(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_runs'))
    )
    op.create_index('ix_quality_runs_table_started', 'quality_runs',
                    ['warehouse_table', 'started_at'], unique=False)
    op.create_table('quality_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('checked', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('pass_rate', sa.Float(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('sample', sa.JSON(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['quality_rules.id'],
                            name=op.f('fk_quality_results_rule_id_quality_rules'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['quality_runs.id'],
                            name=op.f('fk_quality_results_run_id_quality_runs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_results'))
    )
    op.create_index(op.f('ix_quality_results_rule_id'), 'quality_results', ['rule_id'],
                    unique=False)
    op.create_index(op.f('ix_quality_results_run_id'), 'quality_results', ['run_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quality_results_run_id'), table_name='quality_results')
    op.drop_index(op.f('ix_quality_results_rule_id'), table_name='quality_results')
    op.drop_table('quality_results')
    op.drop_index('ix_quality_runs_table_started', table_name='quality_runs')
    op.drop_table('quality_runs')
    op.drop_index('ix_quality_rules_table', table_name='quality_rules')
    op.drop_table('quality_rules')
