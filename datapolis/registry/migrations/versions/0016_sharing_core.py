"""sharing: applications (共享申请) with their steps, grants with their items, the grants counter

Revision ID: 0016_sharing_core
Revises: 0015_quality_issues
Create Date: 2026-11-24 20:42:38.122635
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_sharing_core'
down_revision: str | None = '0015_quality_issues'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('share_counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_share_counters'))
    )
    op.bulk_insert(sa.table('share_counters', sa.column('name', sa.String()),
                            sa.column('value', sa.BigInteger())),
                   [{'name': 'grants', 'value': 0}])
    op.create_table('share_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('provider_org_id', sa.Integer(), nullable=False),
    sa.Column('consumer_org_id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('row_scope', sa.Text(), nullable=True),
    sa.Column('calls_per_day', sa.Integer(), nullable=True),
    sa.Column('rows_per_day', sa.BigInteger(), nullable=True),
    sa.Column('rate_per_second', sa.Float(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=128), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['api_apps.id'],
                            name=op.f('fk_share_grants_app_id_api_apps')),
    sa.ForeignKeyConstraint(['consumer_org_id'], ['organisations.id'],
                            name=op.f('fk_share_grants_consumer_org_id_organisations')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'],
                            name=op.f('fk_share_grants_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'],
                            name=op.f('fk_share_grants_provider_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_grants')),
    sa.UniqueConstraint('code', name=op.f('uq_share_grants_code'))
    )
    op.create_index(op.f('ix_share_grants_app_id'), 'share_grants', ['app_id'], unique=False)
    op.create_index(op.f('ix_share_grants_consumer_org_id'),
                    'share_grants', ['consumer_org_id'], unique=False)
    op.create_index(op.f('ix_share_grants_entry_id'), 'share_grants', ['entry_id'], unique=False)
    op.create_index(op.f('ix_share_grants_provider_org_id'),
                    'share_grants', ['provider_org_id'], unique=False)

    op.create_table('share_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('provider_org_id', sa.Integer(), nullable=False),
    sa.Column('consumer_org_id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('applicant', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.Enum('provider_review', 'bureau_review', 'granted', 'rejected',
                               'withdrawn', name='share_application_state', native_enum=False,
                               length=32), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['api_apps.id'],
                            name=op.f('fk_share_applications_app_id_api_apps')),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'],
                            name=op.f('fk_share_applications_applicant_id_users')),
    sa.ForeignKeyConstraint(['consumer_org_id'], ['organisations.id'],
                            name=op.f('fk_share_applications_consumer_org_id_organisations')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'],
                            name=op.f('fk_share_applications_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['grant_id'], ['share_grants.id'],
                            name=op.f('fk_share_applications_grant_id_share_grants')),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'],
                            name=op.f('fk_share_applications_provider_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_applications')),
    sa.UniqueConstraint('code', name=op.f('uq_share_applications_code'))
    )
    op.create_index(op.f('ix_share_applications_app_id'),
                    'share_applications', ['app_id'], unique=False)
    op.create_index(op.f('ix_share_applications_consumer_org_id'),
                    'share_applications', ['consumer_org_id'], unique=False)
    op.create_index(op.f('ix_share_applications_entry_id'),
                    'share_applications', ['entry_id'], unique=False)
    op.create_index(op.f('ix_share_applications_provider_org_id'),
                    'share_applications', ['provider_org_id'], unique=False)
    op.create_index(op.f('ix_share_applications_state'),
                    'share_applications', ['state'], unique=False)

    op.create_table('share_grant_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('column', sa.String(length=128), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['share_grants.id'],
                            name=op.f('fk_share_grant_items_grant_id_share_grants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_grant_items'))
    )
    op.create_index(op.f('ix_share_grant_items_grant_id'),
                    'share_grant_items', ['grant_id'], unique=False)

    op.create_table('share_application_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                            name=op.f('fk_share_application_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['share_applications.id'],
                            name=op.f('fk_share_application_steps_application_id_share_applications'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                            name=op.f('fk_share_application_steps_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_application_steps'))
    )
    op.create_index(op.f('ix_share_application_steps_application_id'),
                    'share_application_steps', ['application_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_share_application_steps_application_id'),
                    table_name='share_application_steps')

    op.drop_table('share_application_steps')
    op.drop_index(op.f('ix_share_grant_items_grant_id'), table_name='share_grant_items')

    op.drop_table('share_grant_items')
    op.drop_index(op.f('ix_share_applications_state'), table_name='share_applications')
    op.drop_index(op.f('ix_share_applications_provider_org_id'), table_name='share_applications')
    op.drop_index(op.f('ix_share_applications_entry_id'), table_name='share_applications')
    op.drop_index(op.f('ix_share_applications_consumer_org_id'), table_name='share_applications')
    op.drop_index(op.f('ix_share_applications_app_id'), table_name='share_applications')

    op.drop_table('share_applications')
    op.drop_index(op.f('ix_share_grants_provider_org_id'), table_name='share_grants')
    op.drop_index(op.f('ix_share_grants_entry_id'), table_name='share_grants')
    op.drop_index(op.f('ix_share_grants_consumer_org_id'), table_name='share_grants')
    op.drop_index(op.f('ix_share_grants_app_id'), table_name='share_grants')

    op.drop_table('share_grants')
    op.drop_table('share_counters')
