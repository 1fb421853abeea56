"""Honest dates and ids as the upstream writes them (issue 14).

- articles.modified: an article's last significant change, the `updated` readers are shown. Existing rows get
  `published` when they never changed since they were stored (updated = first_seen), else the time the store
  saw their last edit: the best that is known.
- translations.revised: when a translation's text last changed (wall clock), the date of the feeds showing
  it. Existing rows take their `updated` (until now the time their text changed). Their `updated` becomes
  the reader's date: a machine translation is dated like its article; a reviewed one (a human correction)
  keeps the time it was applied.
- articles.upstream_key: the key of a feed entry's id as written, where it differs from the stored key;
  empty for existing rows, filled when their source is next polled (sources/feed.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("modified", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("upstream_key", sa.String(500), nullable=False, server_default=""))
        batch.create_index("ix_articles_upstream_key", ["source", "upstream_key"])
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("revised", sa.DateTime, nullable=True))
        batch.create_index("ix_translations_revised", ["revised"])
    op.execute(
        "UPDATE articles SET modified = CASE WHEN updated > first_seen THEN updated ELSE published END"
    )
    op.execute("UPDATE translations SET revised = updated")
    # A correlated subquery: the same statement on SQLite and PostgreSQL.
    op.execute(
        "UPDATE translations SET updated = "
        "(SELECT articles.modified FROM articles WHERE articles.id = translations.article_id) "
        "WHERE reviewed = false AND updated IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.drop_index("ix_translations_revised")
        batch.drop_column("revised")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_upstream_key")
        batch.drop_column("upstream_key")
        batch.drop_column("modified")
