"""Model capabilities on the pricing catalog: whether a model takes reasoning parameters and has
native structured output (None: the gateway guesses from the model's name).

Revision ID: 0007_model_capabilities
Revises: 0006_completion_batches
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision: str = "0007_model_capabilities"
down_revision: str | None = "0006_completion_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_pricing") as batch:
        batch.add_column(sa.Column("reasoning", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("structured_output", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_pricing") as batch:
        batch.drop_column("structured_output")
        batch.drop_column("reasoning")
