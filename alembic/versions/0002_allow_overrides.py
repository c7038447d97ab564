"""AI resources: allow_overrides (may a request patch the resource through vmx.resourceConfigOverrides)

Revision ID: 0002_allow_overrides
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002_allow_overrides'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing resources keep today's behaviour: overrides allowed (seed 004 documents them).
    with op.batch_alter_table('ai_resources') as batch:
        batch.add_column(sa.Column('allow_overrides', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('ai_resources') as batch:
        batch.drop_column('allow_overrides')
