"""standardisation specs edited through the API or CLI (they override the shipped files)

Revision ID: 0023_std_specs
Revises: 0022_share_application_terms
Create Date: 2026-11-24 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023_std_specs'
down_revision: str | None = '0022_share_application_terms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('std_specs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=63), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_std_specs')),
    sa.UniqueConstraint('target', name=op.f('uq_std_specs_target'))
    )


def downgrade() -> None:
    op.drop_table('std_specs')
