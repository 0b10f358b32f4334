"""catalog search: segmented entries and the change counter

Revision ID: 0007_catalog_search
Revises: 0006_catalog
Create Date: 2026-11-24 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_catalog_search'
down_revision: str | None = '0006_catalog'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_search_docs',
    sa.Column('entry_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('analyzer', sa.String(length=120), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('tokens', sa.JSON(), nullable=False),
    sa.Column('runs', sa.Text(), nullable=False),
    sa.Column('facets', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_catalog_search_docs'))
    )
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_search_docs_seq'), ['seq'], unique=False)

    state = op.create_table('catalog_search_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_search_state'))
    )
    op.bulk_insert(state, [{'id': 1, 'seq': 0}])


def downgrade() -> None:
    op.drop_table('catalog_search_state')
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_search_docs_seq'))
    op.drop_table('catalog_search_docs')
