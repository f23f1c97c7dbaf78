"""round: drop submission_limit (the round file, kept beside the database, says the limits)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 02:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("round") as batch:
        batch.drop_column("submission_limit")


def downgrade() -> None:
    with op.batch_alter_table("round") as batch:
        batch.add_column(sa.Column("submission_limit", sa.Integer(), nullable=True))
