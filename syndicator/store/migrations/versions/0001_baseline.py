"""The schema as it was before revisions (main at 8871bd5): created where missing, completed where older.

A store made before Alembic carries no revision, and its tables may lack columns that later code added (that
code added them itself on every open). This revision brings any such store, or an empty database, to that one
schema without touching a row, so that every later revision starts from one known state. The tables are
written out here, frozen: store/schema.py moves on, this file never changes.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger("syndicator.store.migrations")


def _text(name: str, kind: Any = sa.Text) -> sa.Column[str]:
    """A NOT NULL text column whose rows default to ""."""
    return sa.Column(name, kind, nullable=False, default="")


def _tables() -> sa.MetaData:
    m = sa.MetaData()
    sa.Table(
        "articles", m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        *map(_text, ("summary", "body_html", "author", "tags", "image", "url", "origin")),
        sa.Column("published", sa.DateTime, nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("canonical_url", sa.Text, nullable=False, server_default="", index=True),
        sa.UniqueConstraint("source", "key", name="uq_article_source_key"),
        sa.Index("ix_articles_published", "published", "id"),
        sa.Index("ix_articles_updated", "updated"),
    )  # fmt: skip
    sa.Table(
        "translations", m,
        sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        *map(_text, ("title", "summary", "body_html")),
        _text("engine", sa.String(50)),
        _text("model_version", sa.String(200)),
        _text("pivot", sa.String(35)),
        _text("error", sa.Text),
        _text("source_hash", sa.String(64)),
        sa.Column("updated", sa.DateTime, nullable=True),
        sa.Column("changed", sa.DateTime, nullable=True),
        sa.Column("reviewed", sa.Boolean, nullable=False, default=False),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("next_retry", sa.DateTime, nullable=True),
        sa.Index("ix_translations_updated", "updated"),
        sa.Index("ix_translations_changed", "changed"),
    )  # fmt: skip
    sa.Table(
        "corrections", m,
        sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("applied", sa.DateTime, nullable=False),
    )  # fmt: skip
    sa.Table(
        "memory", m,
        sa.Column("pair", sa.String(80), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("source_hash", sa.String(64), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
    )  # fmt: skip
    sa.Table(
        "memory_stats", m,
        sa.Column("pair", sa.String(80), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False, default=0),
        sa.Column("misses", sa.Integer, nullable=False, default=0),
    )  # fmt: skip
    sa.Table(
        "source_state", m,
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("last_poll", sa.DateTime, nullable=True),
        sa.Column("last_success", sa.DateTime, nullable=True),
        _text("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False, default=0),
        sa.Column("problems", sa.Text, nullable=False, default="[]"),
        sa.Column("last_error_at", sa.DateTime, nullable=True),
        sa.Column("next_poll", sa.DateTime, nullable=True),
    )  # fmt: skip
    sa.Table(
        "source_pages", m,
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("url", sa.String(2000), primary_key=True),
        *map(_text, ("etag", "last_modified")),
        _text("fingerprint", sa.String(64)),
        sa.Column("checked", sa.DateTime, nullable=True),
    )  # fmt: skip
    sa.Table(
        "service_state", m,
        sa.Column("key", sa.String(200), primary_key=True),
        _text("value", sa.Text),
        sa.Column("updated", sa.DateTime, nullable=False),
    )  # fmt: skip
    sa.Table(
        "backlog_samples", m,
        sa.Column("time", sa.DateTime, primary_key=True),
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("pending", sa.Integer, nullable=False),
    )  # fmt: skip
    sa.Table(
        "pulls", m,
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("partner", sa.String(200), primary_key=True),
        sa.Column("feed", sa.String(300), primary_key=True),
        sa.Column("pulls", sa.Integer, nullable=False, default=0),
        sa.Column("not_modified", sa.Integer, nullable=False, default=0),
        sa.Column("last_pull", sa.DateTime, nullable=False),
        _text("user_agent", sa.Text),
    )  # fmt: skip
    sa.Table(
        "feed_entries", m,
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("page", sa.Integer, nullable=True),
        sa.Index("ix_feed_entries_page", "language", "page"),
    )  # fmt: skip
    sa.Table(
        "publish_marks", m,
        sa.Column("language", sa.String(35), primary_key=True),
        sa.Column("since", sa.DateTime, nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("current", sa.String(64), nullable=False),
    )  # fmt: skip
    return m


def _fill(column: sa.Column[object]) -> sa.Column[object]:
    """The column as added to an existing table: NOT NULL needs a default for the rows already there (a
    boolean's is written per dialect: SQLite's 0, PostgreSQL's false)."""
    server_default: object = column.server_default
    if not column.nullable and server_default is None:
        value = getattr(column.default, "arg", "")
        if isinstance(value, bool):
            server_default = sa.true() if value else sa.false()
        elif isinstance(value, int):
            server_default = str(value)
        else:
            server_default = value if isinstance(value, str) else ""
    return sa.Column(column.name, column.type, nullable=column.nullable, server_default=server_default)  # type: ignore[arg-type]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for table in _tables().sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                op.add_column(table.name, _fill(column))
                log.info("store: added the column %s.%s", table.name, column.name)
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(bind)


def downgrade() -> None:
    raise NotImplementedError("the baseline is where the store's history starts: there is nothing before it")
