"""The store's schema: every table and index, and the small time helpers the queries share."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.sql.elements import ColumnElement

from syndicator.models import DONE

metadata = MetaData()


articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(200), nullable=False),
    Column("key", String(500), nullable=False),
    Column("language", String(35), nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("body_html", Text, nullable=False, default=""),
    Column("author", Text, nullable=False, default=""),
    Column("tags", Text, nullable=False, default="[]"),
    Column("image", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("origin", Text, nullable=False, default=""),
    Column("published", DateTime, nullable=False),
    Column("first_seen", DateTime, nullable=False),
    # When the store last saw its content change (wall clock; first_seen for a new one): what incremental
    # publishing looks for, and the feeds' own dates (a feed changed when an entry in it did).
    Column("updated", DateTime, nullable=False),
    # Its last significant change, the date readers are shown as the entry's `updated`: the source's own
    # modification time when it gives one, else when the store saw an edit; `published` while never changed.
    Column("modified", DateTime, nullable=True),
    Column("content_hash", String(64), nullable=False),
    # The URL two sources agree on (sources/ids.py): the same article reached twice is stored once. The
    # database enforces it (uq_articles_canonical_url below), so concurrent writers cannot both insert it.
    Column("canonical_url", Text, nullable=False, default="", server_default=""),
    # The key the upstream's id gives as written (sources/feed.py), where it differs from `key`: an article
    # stored by an earlier version under its id resolved against the feed URL keeps that key (it names its
    # published pages) and is found by this one, whatever host the feed moves to.
    Column("upstream_key", String(500), nullable=False, default="", server_default=""),
    # Taken down (`syndicator withdraw`): out of every feed and page, kept in the store; NULL while public.
    Column("withdrawn_at", DateTime, nullable=True),
    Column("withdrawn_reason", Text, nullable=False, default="", server_default=""),
    UniqueConstraint("source", "key", name="uq_article_source_key"),
    Index("ix_articles_withdrawn", "withdrawn_at"),
)

translations = Table(
    "translations",
    metadata,
    Column("article_id", Integer, primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("body_html", Text, nullable=False, default=""),
    Column("engine", String(50), nullable=False, default=""),
    Column("model_version", String(200), nullable=False, default=""),
    Column("pivot", String(35), nullable=False, default=""),
    Column("error", Text, nullable=False, default=""),
    Column("source_hash", String(64), nullable=False, default=""),
    Column("updated", DateTime, nullable=True),
    # When this row last changed in any way (wall clock): what incremental publishing looks for. `updated` is
    # the entry's date for readers (the article's last significant change, or a human correction's time).
    Column("changed", DateTime, nullable=True),
    # When its readable text last changed (wall clock): the date of the feed that shows it.
    Column("revised", DateTime, nullable=True),
    Column("reviewed", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_retry", DateTime, nullable=True),
    # A worker's claim on a pending translation (store/claims.py): who took it and until when. A claim whose
    # time has passed is free again, so a dead worker's work is taken over.
    Column("claimed_by", String(100), nullable=False, default="", server_default=""),
    Column("claimed_until", DateTime, nullable=True),
    # Share of words the engine marked unknown (translate/quality.py); NULL for engines that mark nothing.
    Column("unknown_ratio", Float, nullable=True),
    # The article's tags as the engine translated them (JSON list, in the article's order).
    Column("tags", Text, nullable=False, default="[]", server_default="[]"),
    # A refusal by the quality gate: the fingerprint of what it depended on (engine, model, glossary, gate
    # settings; translate/quality.py `depends_on`). Such a row is not retried on a timer, only when the
    # fingerprint changes (pipeline/translation.py) or its article does. "" for every other row.
    Column("depends", String(64), nullable=False, default="", server_default=""),
)

# Human corrections applied: which file version was checked against which version of the article.
corrections = Table(
    "corrections",
    metadata,
    Column("article_id", Integer, primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("path", Text, nullable=False),
    Column("file_hash", String(64), nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("applied", DateTime, nullable=False),
)

# Sentence-level translation memory: the identity of a translated sentence is its normalized text's hash,
# the language pair and the model that made it, so a new model version misses exactly its own pair.
# (The SQL tables keep their first names, "memory" and "memory_stats", so existing stores need no migration.)
translation_memory = Table(
    "memory",
    metadata,
    Column("pair", String(80), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("source_hash", String(64), primary_key=True),
    Column("source", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("created", DateTime, nullable=False),
)

translation_memory_stats = Table(
    "memory_stats",
    metadata,
    Column("pair", String(80), primary_key=True),
    Column("hits", Integer, nullable=False, default=0),
    Column("misses", Integer, nullable=False, default=0),
)

source_state = Table(
    "source_state",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("last_poll", DateTime, nullable=True),
    Column("last_success", DateTime, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("failures", Integer, nullable=False, default=0),
    Column("problems", Text, nullable=False, default="[]"),
    Column("last_error_at", DateTime, nullable=True),
    Column("next_poll", DateTime, nullable=True),  # a failing source is not polled before this
    # When the last poll started: a scheduler taking over skips a poll of a slot already polled (sources.py).
    Column("poll_started", DateTime, nullable=True),
)

# Every poll a scheduler started, and which process started it: the history behind "no source is polled twice
# for one slot" when schedulers hand over (docs/scale-out.md). Kept as long as the backlog samples.
polls = Table(
    "polls",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("started", DateTime, primary_key=True),
    Column("poller", String(200), nullable=False, default=""),
)

# Per source and URL: HTTP validators for conditional GET, and which article pages were already read.
source_pages = Table(
    "source_pages",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("url", String(2000), primary_key=True),
    Column("etag", Text, nullable=False, default=""),
    Column("last_modified", Text, nullable=False, default=""),
    Column("fingerprint", String(64), nullable=False, default=""),  # what the listing said about the page
    Column("checked", DateTime, nullable=True),
)

# Small named facts about the running service (last reload error, last publish per language, schedule).
service_state = Table(
    "service_state",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False, default=""),
    Column("updated", DateTime, nullable=False),
)

# Pending translations per language after each publish: the backlog-over-time chart of the status page.
backlog_samples = Table(
    "backlog_samples",
    metadata,
    Column("time", DateTime, primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("pending", Integer, nullable=False),
)

# Feed pulls, aggregated per UTC day, partner ("" for the public) and feed path: written in batches by the
# server's PullRecorder, read by `syndicator partners`.
pulls = Table(
    "pulls",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("partner", String(200), primary_key=True),
    Column("feed", String(300), primary_key=True),
    Column("pulls", Integer, nullable=False, default=0),
    Column("not_modified", Integer, nullable=False, default=0),
    Column("last_pull", DateTime, nullable=False),
    Column("user_agent", Text, nullable=False, default=""),
)


# Publishing state (syndicator/publish/publisher.py): which entries each language's current feed holds and which
# RFC 5005 archive page every older entry was put in (pages never reshuffle), and per language the time and
# settings of the last successful publish, so a cycle only looks at what changed since.
feed_entries = Table(
    "feed_entries",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("article_id", Integer, primary_key=True),
    Column("page", Integer, nullable=True),  # None: in the current feed; n >= 1: archive page n (1 = oldest)
    Index("ix_feed_entries_page", "language", "page"),
)

publish_marks = Table(
    "publish_marks",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("since", DateTime, nullable=False),
    Column("signature", String(64), nullable=False),
    Column("current", String(64), nullable=False),  # hash of what the current feed showed
)

# A publish under way (syndicator/publish/publisher.py): recorded before a language's documents are written and
# removed in the same transaction that records what they hold. A row left behind says a publish was cut short
# (a crash, a full disk): the next publish rewrites the open archive page and removes pages past the last.
publish_journal = Table(
    "publish_journal",
    metadata,
    Column("language", String(35), primary_key=True),
    Column("started", DateTime, nullable=False),
)

# Images published by Syndicator itself (a drop folder's lead images), content-addressed: `name` is the path
# articles refer to and the file is published at (media/<hash prefix>.<ext>, models.media_path). Rows are
# only added: an image no longer used by any article stays (archived entries may still show it).
media = Table(
    "media",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("first_seen", DateTime, nullable=False),
    # Rows of up to an image each (sources' max_image_bytes): copied a few at a time (store/migrate.py).
    info={"copy_rows": 8},
)

# "What changed since" must not scan every article: these make it an index range, and the newest-N query
# of each feed a walk down the published index that stops after N rows.
Index("ix_articles_published", articles.c.published, articles.c.id)
Index("ix_articles_updated", articles.c.updated)
Index("ix_articles_upstream_key", articles.c.source, articles.c.upstream_key)
Index("ix_translations_updated", translations.c.updated)
Index("ix_translations_changed", translations.c.changed)
Index("ix_translations_revised", translations.c.revised)  # translations per day (status page)
# The work queue: pending rows of one language, in article order (claims and `pending`).
Index("ix_translations_queue", translations.c.language, translations.c.status, translations.c.article_id)

# One article per canonical URL. An article without one ("") is exempt: a partial index, which SQLite and
# PostgreSQL both have, and which INSERT … ON CONFLICT can name.
HAS_CANONICAL = articles.c.canonical_url != ""
Index(
    "uq_articles_canonical_url",
    articles.c.canonical_url,
    unique=True,
    sqlite_where=HAS_CANONICAL,
    postgresql_where=HAS_CANONICAL,
)

# The code's schema revision: the newest migration in store/migrations/versions (a test keeps them equal).
# A store at another revision is upgraded by `syndicator migrate` (store/migrate.py).
REVISION = "0010"

# Values that are keys of a unique index stay well below PostgreSQL's btree entry limit (about 2.7 kB):
# longer ones are stored as their hash, which keeps them unique and findable.
KEY_BYTES = 1000


def readable(tr: Table = translations) -> ColumnElement[bool]:
    """A translation readers see: done, or done once and being redone (or failing to be) now.

    Once an entry can be read in a language it stays readable there (the last good text stays until a new
    one is done), so it never drops out of the documents it was published in.
    """
    return or_(tr.c.status == DONE, tr.c.source_hash != "")


# SQLite keeps no time zone: values are stored naive in UTC and handed back tz-aware.
def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def aware_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def bounded_key(value: str) -> str:
    """`value` when it fits an index entry (KEY_BYTES of UTF-8), else "sha256:" and its hash."""
    data = value.encode("utf-8", "surrogatepass")
    return value if len(data) <= KEY_BYTES else "sha256:" + hashlib.sha256(data).hexdigest()


def clean_text(value: str) -> str:
    """Text as every database keeps it: PostgreSQL refuses NUL characters (and no feed can carry one)."""
    return value.replace("\x00", "") if "\x00" in value else value


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)
