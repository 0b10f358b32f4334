"""sharing: the terms a provider approved an application on, kept for the bureau's review

Revision ID: 0022_share_application_terms
Revises: 0021_governance_build_actor
Create Date: 2026-11-24 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022_share_application_terms'
down_revision: str | None = '0021_governance_build_actor'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('share_applications') as batch_op:
        batch_op.add_column(sa.Column('terms', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('share_applications') as batch_op:
        batch_op.drop_column('terms')
