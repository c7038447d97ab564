"""connection last test: the result of the last credentials test, for a truthful status

Revision ID: 0005_connection_last_test
Revises: 0004_audit_trail
Create Date: 2026-12-02 04:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005_connection_last_test'
down_revision: str | None = '0004_audit_trail'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # {ok, message, testedAt, models}; NULL until the current credentials are tested.
    op.add_column('ai_connections', sa.Column(
        'last_test', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ai_connections') as batch:
        batch.drop_column('last_test')
