"""Several schedulers: when each source's last poll started, and the history of polls with their poller."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(sa.Column("poll_started", sa.DateTime, nullable=True))
    op.create_table(
        "polls",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("started", sa.DateTime, primary_key=True),
        sa.Column("poller", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("polls")
    with op.batch_alter_table("source_state") as batch:
        batch.drop_column("poll_started")
