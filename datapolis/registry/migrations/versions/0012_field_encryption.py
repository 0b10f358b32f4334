"""field encryption: protected warehouse columns, the field keyring, blind-index keys

Revision ID: 0012_field_encryption
Revises: 0011_security_grading
Create Date: 2026-11-24 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_field_encryption'
down_revision: str | None = '0011_security_grading'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('field_protections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=130), nullable=False),
    sa.Column('column_name', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=40), nullable=False),
    sa.Column('plain_type', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=128), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows_encrypted', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_protections')),
    sa.UniqueConstraint('table_name', 'column_name',
                        name=op.f('uq_field_protections_table_name_column_name'))
    )
    with op.batch_alter_table('field_protections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_protections_table_name'), ['table_name'],
                              unique=False)
    op.create_table('field_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('wrapped', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_field_keys_key_id'))
    )
    op.create_table('field_index_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=40), nullable=False),
    sa.Column('wrapped', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_index_keys')),
    sa.UniqueConstraint('family', name=op.f('uq_field_index_keys_family'))
    )


def downgrade() -> None:
    op.drop_table('field_index_keys')
    op.drop_table('field_keys')
    with op.batch_alter_table('field_protections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_protections_table_name'))
    op.drop_table('field_protections')
