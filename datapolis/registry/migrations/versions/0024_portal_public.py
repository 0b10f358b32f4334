"""portal public side: registered users, sessions, API keys, data requests, error reports,
applications for conditionally open datasets

Revision ID: 0024_portal_public
Revises: 0023_std_specs
Create Date: 2026-11-24 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0024_portal_public'
down_revision: str | None = '0023_std_specs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('portal_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_users')),
    sa.UniqueConstraint('username', name=op.f('uq_portal_users_username')),
    sa.UniqueConstraint('email', name=op.f('uq_portal_users_email')),
    )
    op.create_table('portal_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['portal_users.id'],
                            name=op.f('fk_portal_sessions_user_id_portal_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_sessions_token_hash')),
    )
    op.create_index(op.f('ix_portal_sessions_user_id'), 'portal_sessions', ['user_id'])
    op.create_table('portal_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['portal_users.id'],
                            name=op.f('fk_portal_api_keys_user_id_portal_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_portal_api_keys_key_hash')),
    )
    op.create_index(op.f('ix_portal_api_keys_user_id'), 'portal_api_keys', ['user_id'])
    op.create_table('portal_data_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('requester', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_data_requests')),
    )
    op.create_index(op.f('ix_portal_data_requests_status'), 'portal_data_requests', ['status'])
    op.create_index(op.f('ix_portal_data_requests_created_at'), 'portal_data_requests',
                    ['created_at'])
    op.create_table('portal_error_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_code', sa.String(length=40), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('handled_by', sa.String(length=64), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_error_reports')),
    )
    for column in ('dataset_code', 'org_code', 'status'):
        op.create_index(op.f(f'ix_portal_error_reports_{column}'), 'portal_error_reports',
                        [column])
    op.create_table('portal_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dataset_code', sa.String(length=40), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['portal_users.id'],
                            name=op.f('fk_portal_applications_user_id_portal_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_applications')),
    )
    for column in ('user_id', 'dataset_code', 'org_code', 'status'):
        op.create_index(op.f(f'ix_portal_applications_{column}'), 'portal_applications',
                        [column])


def downgrade() -> None:
    for table in ('portal_applications', 'portal_error_reports', 'portal_data_requests',
                  'portal_api_keys', 'portal_sessions', 'portal_users'):
        op.drop_table(table)
