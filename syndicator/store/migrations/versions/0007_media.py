"""Images Syndicator publishes itself (issue 14: a drop folder's lead images), content-addressed.

- media: one row per image, keyed by the path it is published at (media/<sha256 prefix>.<ext>), with its
  bytes. Articles refer to a row by that path in their `image` column, so no article column changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("media")
