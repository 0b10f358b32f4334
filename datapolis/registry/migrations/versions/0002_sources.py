"""ingest: sources and chosen tables

Revision ID: 0002_sources
Revises: 0001_identity
Create Date: 2026-11-24 13:22:27.917296
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_sources'
down_revision: str | None = '0001_identity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('secrets_encrypted', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sources_created_by_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_sources_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('code', name=op.f('uq_sources_code'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_org_id'), ['org_id'], unique=False)

    op.create_table('source_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('target_table', sa.String(length=130), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('primary_key', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_tables_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_tables')),
    sa.UniqueConstraint('source_id', 'name', name=op.f('uq_source_tables_source_id_name')),
    sa.UniqueConstraint('target_table', name=op.f('uq_source_tables_target_table'))
    )
    with op.batch_alter_table('source_tables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_tables_source_id'), ['source_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('source_tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_tables_source_id'))

    op.drop_table('source_tables')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_org_id'))

    op.drop_table('sources')
