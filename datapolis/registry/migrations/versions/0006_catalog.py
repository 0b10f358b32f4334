"""catalog: standards, entries, items, versions

Revision ID: 0006_catalog
Revises: 0005_sync_minutes
Create Date: 2026-11-24 15:00:56.128292
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_catalog'
down_revision: str | None = '0005_sync_minutes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('code_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('english_name', sa.String(length=200), nullable=True),
    sa.Column('standard', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_tables')),
    sa.UniqueConstraint('code', name=op.f('uq_code_tables_code'))
    )
    op.create_table('code_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['table_id'], ['code_tables.id'], name=op.f('fk_code_values_table_id_code_tables')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_values')),
    sa.UniqueConstraint('table_id', 'code', name=op.f('uq_code_values_table_id_code'))
    )
    with op.batch_alter_table('code_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_values_table_id'), ['table_id'], unique=False)

    op.create_table('data_elements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('english_name', sa.String(length=200), nullable=True),
    sa.Column('definition', sa.Text(), nullable=True),
    sa.Column('data_type', sa.Enum('string', 'integer', 'decimal', 'date', 'datetime', 'boolean', 'binary', name='data_type', native_enum=False, length=32), nullable=False),
    sa.Column('length', sa.Integer(), nullable=True),
    sa.Column('format', sa.String(length=64), nullable=True),
    sa.Column('code_table_id', sa.Integer(), nullable=True),
    sa.Column('value_pattern', sa.String(length=32), nullable=True),
    sa.Column('synonyms', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code_table_id'], ['code_tables.id'], name=op.f('fk_data_elements_code_table_id_code_tables')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_elements')),
    sa.UniqueConstraint('code', name=op.f('uq_data_elements_code')),
    sa.UniqueConstraint('name', name=op.f('uq_data_elements_name'))
    )
    with op.batch_alter_table('data_elements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_elements_code_table_id'), ['code_table_id'], unique=False)

    op.create_table('catalog_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_code', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=1), nullable=False),
    sa.Column('subject', sa.String(length=2), nullable=False),
    sa.Column('heading', sa.String(length=3), nullable=False),
    sa.Column('subheading', sa.String(length=6), nullable=True),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('catalog_type', sa.Enum('basic_population', 'basic_legal_entity', 'basic_geospatial', 'basic_credit', 'basic_licence', 'theme', 'department', name='catalog_type', native_enum=False, length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('format_class', sa.Enum('electronic_file', 'spreadsheet', 'database', 'image', 'streaming', 'self_describing', 'other', name='format_class', native_enum=False, length=32), nullable=False),
    sa.Column('format_detail', sa.String(length=100), nullable=True),
    sa.Column('share_type', sa.Enum('unconditional', 'conditional', 'not_shared', name='share_type', native_enum=False, length=32), nullable=False),
    sa.Column('share_conditions', sa.Text(), nullable=True),
    sa.Column('share_methods', sa.JSON(), nullable=False),
    sa.Column('open_to_public', sa.Boolean(), nullable=False),
    sa.Column('open_conditions', sa.Text(), nullable=True),
    sa.Column('update_cycle', sa.Enum('realtime', 'hourly', 'daily', 'weekly', 'ten_days', 'monthly', 'quarterly', 'half_yearly', 'yearly', 'irregular', name='update_cycle', native_enum=False, length=32), nullable=False),
    sa.Column('publish_date', sa.Date(), nullable=True),
    sa.Column('related_codes', sa.JSON(), nullable=False),
    sa.Column('classified', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('record_count', sa.BigInteger(), nullable=True),
    sa.Column('storage_bytes', sa.BigInteger(), nullable=True),
    sa.Column('warehouse_table', sa.String(length=130), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'rejected', 'published', 'retired', name='entry_status', native_enum=False, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_catalog_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'], name=op.f('fk_catalog_entries_provider_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_entries')),
    sa.UniqueConstraint('prefix', 'sequence', name=op.f('uq_catalog_entries_prefix_sequence')),
    sa.UniqueConstraint('resource_code', name=op.f('uq_catalog_entries_resource_code'))
    )
    with op.batch_alter_table('catalog_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_entries_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_entries_warehouse_table'), ['warehouse_table'], unique=False)

    op.create_table('catalog_entry_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'rejected', 'published', 'retired', name='version_status', native_enum=False, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_catalog_entry_versions_actor_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_catalog_entry_versions_entry_id_catalog_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_entry_versions')),
    sa.UniqueConstraint('entry_id', 'number', name=op.f('uq_catalog_entry_versions_entry_id_number'))
    )
    with op.batch_alter_table('catalog_entry_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_entry_versions_entry_id'), ['entry_id'], unique=False)

    op.create_table('catalog_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('column_name', sa.String(length=128), nullable=True),
    sa.Column('data_type', sa.Enum('string', 'integer', 'decimal', 'date', 'datetime', 'boolean', 'binary', name='item_data_type', native_enum=False, length=32), nullable=False),
    sa.Column('length', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('security_grade', sa.String(length=16), nullable=True),
    sa.Column('element_id', sa.Integer(), nullable=True),
    sa.Column('mapped_by_id', sa.Integer(), nullable=True),
    sa.Column('mapped_by', sa.String(length=64), nullable=True),
    sa.Column('mapped_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['element_id'], ['data_elements.id'], name=op.f('fk_catalog_items_element_id_data_elements')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_catalog_items_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['mapped_by_id'], ['users.id'], name=op.f('fk_catalog_items_mapped_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_items')),
    sa.UniqueConstraint('entry_id', 'name', name=op.f('uq_catalog_items_entry_id_name'))
    )
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_items_element_id'), ['element_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_items_entry_id'), ['entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('catalog_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_items_entry_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_items_element_id'))

    op.drop_table('catalog_items')
    with op.batch_alter_table('catalog_entry_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_entry_versions_entry_id'))

    op.drop_table('catalog_entry_versions')
    with op.batch_alter_table('catalog_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_entries_warehouse_table'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_status'))
        batch_op.drop_index(batch_op.f('ix_catalog_entries_provider_id'))

    op.drop_table('catalog_entries')
    with op.batch_alter_table('data_elements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_elements_code_table_id'))

    op.drop_table('data_elements')
    with op.batch_alter_table('code_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_values_table_id'))

    op.drop_table('code_values')
    op.drop_table('code_tables')
