"""Translation signals: the share of words the engine marked unknown, and the tags as the engine translated
them (issue 13: engine signals as quality gates, tags through glossary → catalog → engine).

Existing rows get no ratio (NULL: as for engines that mark nothing) and no translated tags ("[]": feeds show
the catalog's or the source's tag until the article is translated again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("unknown_ratio", sa.Float, nullable=True))
        batch.add_column(sa.Column("tags", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("tags")
        batch.drop_column("unknown_ratio")
