"""run.dispatched_at and run.dispatches (when a run was published to the broker),
run.problem_sha256 (the problem's digest when the run was queued) and run.resource
(cpu or gpu: the queue it goes to).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("dispatches", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("problem_sha256", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("resource", sa.String(length=8), nullable=False, server_default="cpu")
        )


def downgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.drop_column("resource")
        batch.drop_column("problem_sha256")
        batch.drop_column("dispatches")
        batch.drop_column("dispatched_at")
