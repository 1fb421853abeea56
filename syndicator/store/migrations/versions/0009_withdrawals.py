"""Articles taken down: `articles.withdrawn_at` and `withdrawn_reason` (`syndicator withdraw`).

A withdrawn article stays stored (a source that still offers it does not bring it back, and `withdraw --undo`
restores it), but leaves every public and partner feed, entry page and the landing page. Existing rows are
not withdrawn.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("withdrawn_reason", sa.Text, nullable=False, server_default=""))
        batch.create_index("ix_articles_withdrawn", ["withdrawn_at"])


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_withdrawn")
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_at")
