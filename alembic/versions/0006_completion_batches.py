"""completion batches

Revision ID: 0006_completion_batches
Revises: 0005_connection_last_test
Create Date: 2026-12-02 04:27:27.966165
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
import vmx_app.models.base

revision: str = '0006_completion_batches'
down_revision: str | None = '0005_connection_last_test'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reviewed by hand: the batch tables (issue 14) and request_audit.batch_id.
    op.create_table('completion_batch',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('environment_id', sa.Uuid(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('api_key_id', sa.Uuid(), nullable=True),
    sa.Column('api_key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('capacity', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('callback', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('total_items', sa.Integer(), nullable=False),
    sa.Column('completed_items', sa.Integer(), nullable=False),
    sa.Column('failed_items', sa.Integer(), nullable=False),
    sa.Column('cancelled_items', sa.Integer(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('total_tokens', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('created_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['environment_id'], ['environments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('completion_batch', schema=None) as batch_op:
        batch_op.create_index('ix_completion_batch_env_time', ['environment_id', 'created_at'], unique=False)

    op.create_table('completion_batch_item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Uuid(), nullable=False),
    sa.Column('resource_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('custom_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('total_tokens', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('available_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_expires_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', vmx_app.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['completion_batch.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('completion_batch_item', schema=None) as batch_op:
        batch_op.create_index('ix_completion_batch_item_batch_seq', ['batch_id', 'seq'], unique=False)
        batch_op.create_index('ix_completion_batch_item_queue', ['status', 'available_at'], unique=False)

    with op.batch_alter_table('request_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Uuid(), nullable=True))
        batch_op.create_index('ix_request_audit_batch', ['batch_id'], unique=False)



def downgrade() -> None:
    # Reviewed by hand: the batch tables (issue 14) and request_audit.batch_id.
    with op.batch_alter_table('request_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_request_audit_batch')
        batch_op.drop_column('batch_id')

    with op.batch_alter_table('completion_batch_item', schema=None) as batch_op:
        batch_op.drop_index('ix_completion_batch_item_queue')
        batch_op.drop_index('ix_completion_batch_item_batch_seq')

    op.drop_table('completion_batch_item')
    with op.batch_alter_table('completion_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_completion_batch_env_time')

    op.drop_table('completion_batch')
