"""quality issues (问题工单): one issue per table and subject, and its history

Revision ID: 0015_quality_issues
Revises: 0014_quality
Create Date: 2026-11-24 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_quality_issues'
down_revision: str | None = '0014_quality'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quality_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_table', sa.String(length=130), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('checked', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('sample', sa.JSON(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['quality_rules.id'],
                            name=op.f('fk_quality_issues_rule_id_quality_rules'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                            name=op.f('fk_quality_issues_org_id_organisations')),
    sa.ForeignKeyConstraint(['last_run_id'], ['quality_runs.id'],
                            name=op.f('fk_quality_issues_last_run_id_quality_runs'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_issues')),
    sa.UniqueConstraint('warehouse_table', 'subject',
                        name=op.f('uq_quality_issues_warehouse_table_subject'))
    )
    op.create_index('ix_quality_issues_org_state', 'quality_issues', ['org_id', 'state'],
                    unique=False)
    op.create_index(op.f('ix_quality_issues_org_id'), 'quality_issues', ['org_id'],
                    unique=False)
    op.create_index(op.f('ix_quality_issues_rule_id'), 'quality_issues', ['rule_id'],
                    unique=False)
    op.create_table('quality_issue_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('failed', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['quality_issues.id'],
                            name=op.f('fk_quality_issue_events_issue_id_quality_issues'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_issue_events'))
    )
    op.create_index(op.f('ix_quality_issue_events_issue_id'), 'quality_issue_events',
                    ['issue_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_quality_issue_events_issue_id'), table_name='quality_issue_events')
    op.drop_table('quality_issue_events')
    op.drop_index(op.f('ix_quality_issues_rule_id'), table_name='quality_issues')
    op.drop_index(op.f('ix_quality_issues_org_id'), table_name='quality_issues')
    op.drop_index('ix_quality_issues_org_state', table_name='quality_issues')
    op.drop_table('quality_issues')
