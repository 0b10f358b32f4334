"""governance builds: who started each std or base build

Revision ID: 0021_governance_build_actor
Revises: 0020_portal_usage
Create Date: 2026-11-24 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021_governance_build_actor'
down_revision: str | None = '0020_portal_usage'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('governance_builds', sa.Column('actor', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('governance_builds') as batch:
        batch.drop_column('actor')
