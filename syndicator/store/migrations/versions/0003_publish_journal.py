"""A publish under way: the journal row a language's publish writes before its documents and removes in the
transaction that records them (syndicator/publish/publisher.py). A row left behind says the publish was cut
short, and the next one redoes it. Existing stores start with an empty journal: nothing is under way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publish_journal",
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("started", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("publish_journal")
