"""spend budgets on environments, resources and API keys (DESIGN §10)

Revision ID: 0003_capacity_budgets
Revises: 0002_allow_overrides
Create Date: 2026-12-02 04:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003_capacity_budgets'
down_revision: str | None = '0002_allow_overrides'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ('environments', 'ai_resources', 'api_keys')


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('budgets', json, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('budgets')
