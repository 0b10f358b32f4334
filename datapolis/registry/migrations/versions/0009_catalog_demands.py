"""catalog demands: supply-demand docking

Revision ID: 0009_catalog_demands
Revises: 0008_catalog_profiles
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_catalog_demands'
down_revision: str | None = '0008_catalog_profiles'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('catalog_demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'critical', name='demand_urgency', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('registered', 'matched', 'in_progress', 'fulfilled', 'closed', name='demand_status', native_enum=False, length=32), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('provider_hint_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('sharing_reference', sa.String(length=64), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_catalog_demands_created_by_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['catalog_entries.id'], name=op.f('fk_catalog_demands_entry_id_catalog_entries')),
    sa.ForeignKeyConstraint(['provider_hint_id'], ['organisations.id'], name=op.f('fk_catalog_demands_provider_hint_id_organisations')),
    sa.ForeignKeyConstraint(['requester_id'], ['organisations.id'], name=op.f('fk_catalog_demands_requester_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_demands')),
    sa.UniqueConstraint('code', name=op.f('uq_catalog_demands_code')),
    sa.UniqueConstraint('year', 'sequence', name=op.f('uq_catalog_demands_year_sequence'))
    )
    with op.batch_alter_table('catalog_demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_demands_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_demands_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalog_demands_status'), ['status'], unique=False)

    op.create_table('catalog_demand_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.Enum('registered', 'matched', 'in_progress', 'fulfilled', 'closed', name='demand_event_from', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('registered', 'matched', 'in_progress', 'fulfilled', 'closed', name='demand_event_to', native_enum=False, length=32), nullable=False),
    sa.Column('entry_code', sa.String(length=40), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_catalog_demand_events_actor_id_users')),
    sa.ForeignKeyConstraint(['demand_id'], ['catalog_demands.id'], name=op.f('fk_catalog_demand_events_demand_id_catalog_demands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_demand_events')),
    sa.UniqueConstraint('demand_id', 'number', name=op.f('uq_catalog_demand_events_demand_id_number'))
    )
    with op.batch_alter_table('catalog_demand_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_demand_events_demand_id'), ['demand_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('catalog_demand_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_demand_events_demand_id'))

    op.drop_table('catalog_demand_events')
    with op.batch_alter_table('catalog_demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_demands_status'))
        batch_op.drop_index(batch_op.f('ix_catalog_demands_requester_id'))
        batch_op.drop_index(batch_op.f('ix_catalog_demands_entry_id'))

    op.drop_table('catalog_demands')
