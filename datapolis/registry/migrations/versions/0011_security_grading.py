"""security grading: the category scheme, entry categories, field grades

Revision ID: 0011_security_grading
Revises: 0010_audit_log
Create Date: 2026-11-24 18:24:48.588711
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011_security_grading'
down_revision: str | None = '0010_audit_log'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('security_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['security_categories.id'], name=op.f('fk_security_categories_parent_id_security_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_security_categories_code'))
    )
    with op.batch_alter_table('security_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_categories_parent_id'), ['parent_id'], unique=False)

    op.create_table('security_entry_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_security_entry_categories_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['security_categories.id'], name=op.f('fk_security_entry_categories_category_id_security_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_security_entry_categories_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_entry_categories')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_security_entry_categories_entry_id'))
    )
    with op.batch_alter_table('security_entry_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_entry_categories_category_id'), ['category_id'], unique=False)

    op.create_table('security_field_grades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('suggested_kind', sa.String(length=32), nullable=False),
    sa.Column('suggested_grade', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('suggested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_security_field_grades_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_security_field_grades_entry_id_catalog_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['catalog_items.id'], name=op.f('fk_security_field_grades_item_id_catalog_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_field_grades')),
    sa.UniqueConstraint('item_id', name=op.f('uq_security_field_grades_item_id'))
    )
    with op.batch_alter_table('security_field_grades', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_field_grades_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_field_grades_grade'), ['grade'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('security_field_grades', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_field_grades_grade'))
        batch_op.drop_index(batch_op.f('ix_security_field_grades_entry_id'))

    op.drop_table('security_field_grades')
    with op.batch_alter_table('security_entry_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_entry_categories_category_id'))

    op.drop_table('security_entry_categories')
    with op.batch_alter_table('security_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_categories_parent_id'))

    op.drop_table('security_categories')
