"""slack: where a run reports back, one active run per (version, window), seen events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("active_key", sa.String(length=64), nullable=True))
        batch_op.create_index("ux_check_run_active_key", ["active_key"], unique=True)
    op.create_table(
        "slack_event",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )


def downgrade() -> None:
    op.drop_table("slack_event")
    with op.batch_alter_table("check_run", schema=None) as batch_op:
        batch_op.drop_index("ux_check_run_active_key")
        batch_op.drop_column("active_key")
        batch_op.drop_column("notify")
