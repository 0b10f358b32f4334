"""catalog profiles: profiled warehouse tables and their columns

Revision ID: 0008_catalog_profiles
Revises: 0007_catalog_search
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_catalog_profiles'
down_revision: str | None = '0007_catalog_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_table_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_table', sa.String(length=130), nullable=False),
    sa.Column('row_count', sa.BigInteger(), nullable=False),
    sa.Column('storage_bytes', sa.BigInteger(), nullable=True),
    sa.Column('profiled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_table_profiles')),
    sa.UniqueConstraint('warehouse_table', name=op.f('uq_catalog_table_profiles_warehouse_table'))
    )
    op.create_table('catalog_column_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('column_name', sa.String(length=128), nullable=False),
    sa.Column('data_type', sa.String(length=64), nullable=False),
    sa.Column('present', sa.BigInteger(), nullable=False),
    sa.Column('distinct_count', sa.BigInteger(), nullable=True),
    sa.Column('distinct_exact', sa.Boolean(), nullable=False),
    sa.Column('min_value', sa.Text(), nullable=True),
    sa.Column('max_value', sa.Text(), nullable=True),
    sa.Column('min_length', sa.Integer(), nullable=True),
    sa.Column('max_length', sa.Integer(), nullable=True),
    sa.Column('top_values', sa.JSON(), nullable=False),
    sa.Column('patterns', sa.JSON(), nullable=False),
    sa.Column('masked', sa.Boolean(), nullable=False),
    sa.Column('suggestions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['table_id'], ['catalog_table_profiles.id'], name=op.f('fk_catalog_column_profiles_table_id_catalog_table_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_column_profiles')),
    sa.UniqueConstraint('table_id', 'column_name', name=op.f('uq_catalog_column_profiles_table_id_column_name'))
    )
    with op.batch_alter_table('catalog_column_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_column_profiles_table_id'), ['table_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('catalog_column_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_column_profiles_table_id'))
    op.drop_table('catalog_column_profiles')
    op.drop_table('catalog_table_profiles')
