"""Concurrent writers: one article per canonical URL by a unique index, and claims on pending translations.

Stores from before could hold two articles with one canonical URL (written by two pollers at once): the first
keeps the URL, the later ones keep their rows and lose only the duplicate mark, and the log says how many. A
canonical URL or page URL too long for an index entry is stored as its hash, as the code now writes them.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("syndicator.store.migrations")

KEY_BYTES = 1000  # as schema.KEY_BYTES was when this revision was written
HAS_CANONICAL = sa.text("canonical_url != ''")


def _hash_long_keys(table: str, column: str, key: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT {key}, {column} FROM {table} WHERE length({column}) > :n"), {"n": KEY_BYTES // 4}
    ).all()
    for row_key, value in rows:
        data = value.encode("utf-8", "surrogatepass")
        if len(data) > KEY_BYTES:
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :v WHERE {key} = :k AND {column} = :old"),
                {"v": "sha256:" + hashlib.sha256(data).hexdigest(), "k": row_key, "old": value},
            )


def upgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("claimed_until", sa.DateTime, nullable=True))
    op.create_index("ix_translations_queue", "translations", ["language", "status", "article_id"])

    _hash_long_keys("articles", "canonical_url", "id")
    _hash_long_keys("source_pages", "url", "source")
    bind = op.get_bind()
    later = (
        "canonical_url != '' AND id NOT IN "
        "(SELECT min(id) FROM articles WHERE canonical_url != '' GROUP BY canonical_url)"
    )
    twins = bind.execute(sa.text(f"SELECT count(*) FROM articles WHERE {later}")).scalar_one()
    if twins:
        bind.execute(sa.text(f"UPDATE articles SET canonical_url = '' WHERE {later}"))
        log.warning(
            "store: %d article(s) shared a canonical URL with an older one (stored twice by concurrent pollers); "
            "the oldest keeps the URL, the others stay as they are",
            twins,
        )
    op.drop_index("ix_articles_canonical_url", table_name="articles")
    op.create_index(
        "uq_articles_canonical_url",
        "articles",
        ["canonical_url"],
        unique=True,
        sqlite_where=HAS_CANONICAL,
        postgresql_where=HAS_CANONICAL,
    )


def downgrade() -> None:
    op.drop_index("uq_articles_canonical_url", table_name="articles")
    op.create_index("ix_articles_canonical_url", "articles", ["canonical_url"])
    op.drop_index("ix_translations_queue", table_name="translations")
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
