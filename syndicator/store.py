"""The only SQL: articles, translations, sentence memory and source state behind one SQLAlchemy URL."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    union,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from syndicator.errors import StoreError
from syndicator.models import (
    DONE,
    FAILED,
    PENDING,
    Article,
    ArticleInput,
    Translation,
)

log = logging.getLogger(__name__)

BACKLOG_KEPT = timedelta(days=60)  # backlog samples older than this are dropped

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
    Column("updated", DateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    # The URL two sources agree on (sources/ids.py): the same article reached twice is stored once.
    Column("canonical_url", Text, nullable=False, default="", server_default="", index=True),
    UniqueConstraint("source", "key", name="uq_article_source_key"),
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
    # the entry's date for readers and may be set back to the source's change.
    Column("changed", DateTime, nullable=True),
    Column("reviewed", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_retry", DateTime, nullable=True),
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

# Columns added after the first release: added in place to older databases (see Store._upgrade).
# Sentence-level translation memory: the identity of a translated sentence is its normalized text's hash,
# the language pair and the model that made it, so a new model version misses exactly its own pair.
memory = Table(
    "memory",
    metadata,
    Column("pair", String(80), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("source_hash", String(64), primary_key=True),
    Column("source", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("created", DateTime, nullable=False),
)

memory_stats = Table(
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

# "What changed since" must not scan every article: these make it an index range, and the newest-N query
# of each feed a walk down the published index that stops after N rows (created on old stores too).
_CHANGE_INDEXES = (
    Index("ix_articles_published", articles.c.published, articles.c.id),
    Index("ix_articles_updated", articles.c.updated),
    Index("ix_translations_updated", translations.c.updated),
    Index("ix_translations_changed", translations.c.changed),
)


# SQLite keeps no time zone: values are stored naive in UTC and handed back tz-aware.
def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _sql_default(column: Column[Any]) -> str:
    """The SQL literal for a column's scalar default: what existing rows get when the column is added."""
    value = getattr(column.default, "arg", "")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return "''"  # text columns, and callables SQL cannot express


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


class Store:
    """Durable state of one instance; every method is one transaction."""

    def __init__(self, url: str, *, clock: Any = utcnow) -> None:
        self.url = url
        self.clock = clock
        self._upsert_lock = threading.Lock()
        self.engine = self._connect(url)
        try:
            metadata.create_all(self.engine)
            self._add_new_columns()
            for index in _CHANGE_INDEXES:
                index.create(self.engine, checkfirst=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {url}: {exc}", hint="check store.url") from exc

    @staticmethod
    def _connect(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if parsed.get_backend_name() == "sqlite":

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                # WAL lets the server read while a cycle writes; the busy timeout rides out short locks.
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

        return engine

    def _add_new_columns(self) -> None:
        """Add columns newer than an existing database (create_all only makes missing tables)."""
        inspector = inspect(self.engine)
        with self._tx() as conn:
            for table in metadata.sorted_tables:
                have = {c["name"] for c in inspector.get_columns(table.name)}
                added = False
                for column in table.columns:
                    if column.name in have:
                        continue
                    kind = column.type.compile(dialect=self.engine.dialect)
                    default = "" if column.nullable else f" NOT NULL DEFAULT {_sql_default(column)}"
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{default}'))
                    log.info("store: added column %s.%s", table.name, column.name)
                    added = True
                if added:
                    for index in table.indexes:
                        index.create(bind=conn, checkfirst=True)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        """One write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE): a deferred
        transaction that read first fails at once with "database is locked" when another thread committed
        meanwhile, whereas an immediate one waits out the busy timeout."""
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    # -- articles ---------------------------------------------------------------------------------------

    def upsert_article(self, item: ArticleInput, content_hash: str, canonical: str = "") -> tuple[int, str]:
        """Store an article once; return (id, "new" | "updated" | "unchanged" | "duplicate").

        "duplicate": another (source, key) already stored this canonical URL; the first one keeps it.
        """
        now = _naive_utc(self.clock())
        values = {
            "language": item.language,
            "title": item.title,
            "summary": item.summary,
            "body_html": item.body_html,
            "author": item.author,
            "tags": json.dumps(list(item.tags), ensure_ascii=False),
            "image": item.image,
            "url": item.url,
            "origin": item.origin,
            "published": _naive_utc(item.published),
            "content_hash": content_hash,
        }
        # One writer at a time in this process: two sources polled side by side must not both insert the
        # same canonical URL between the duplicate check and the insert.
        with self._upsert_lock, self._tx() as conn:
            row = conn.execute(
                select(articles.c.id, articles.c.content_hash).where(
                    and_(articles.c.source == item.source, articles.c.key == item.key)
                )
            ).first()
            if row is None and canonical:
                twin = conn.execute(
                    select(articles.c.id).where(articles.c.canonical_url == canonical).limit(1)
                ).first()
                if twin is not None:
                    return int(twin.id), "duplicate"
            if row is None:
                result = conn.execute(
                    articles.insert().values(
                        source=item.source,
                        key=item.key,
                        first_seen=now,
                        updated=now,
                        canonical_url=canonical,
                        **values,
                    )
                )
                return int(result.inserted_primary_key[0]), "new"
            if row.content_hash == content_hash:
                return int(row.id), "unchanged"
            conn.execute(update(articles).where(articles.c.id == row.id).values(updated=now, **values))
            return int(row.id), "updated"

    def published_of(self, source: str, key: str) -> datetime | None:
        """The stored publication date of (source, key), or None when it is not stored."""
        query = select(articles.c.published).where(and_(articles.c.source == source, articles.c.key == key))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return _aware(value)

    def article(self, article_id: int) -> Article:
        """One stored article."""
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
        if row is None:
            raise StoreError(f"no article with id {article_id}")
        return self._article(row)

    def articles(self, ids: Iterable[int] | None = None) -> list[Article]:
        """Stored articles (all, or those ids), newest first."""
        query = select(articles).order_by(articles.c.published.desc(), articles.c.id.desc())
        if ids is not None:
            query = query.where(articles.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [self._article(r) for r in conn.execute(query)]

    def latest_articles(self, limit: int) -> list[Article]:
        """The newest `limit` articles: what a feed shows."""
        query = select(articles).order_by(articles.c.published.desc(), articles.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [self._article(r) for r in conn.execute(query)]

    @staticmethod
    def _article(row: Any) -> Article:
        return Article(
            id=row.id,
            source=row.source,
            key=row.key,
            language=row.language,
            title=row.title,
            summary=row.summary,
            body_html=row.body_html,
            author=row.author,
            tags=tuple(json.loads(row.tags)),
            image=row.image,
            url=row.url,
            published=row.published.replace(tzinfo=UTC),
            first_seen=row.first_seen.replace(tzinfo=UTC),
            updated=row.updated.replace(tzinfo=UTC),
            content_hash=row.content_hash,
        )

    # -- translations -----------------------------------------------------------------------------------

    def ensure_pending(self, article: Article, languages: Sequence[str]) -> int:
        """Mark (article, language) pending where no translation of the current content exists."""
        count = 0
        with self._tx() as conn:
            existing = {
                r.language: r
                for r in conn.execute(
                    select(translations.c.language, translations.c.source_hash, translations.c.status).where(
                        translations.c.article_id == article.id
                    )
                )
            }
            for lang in languages:
                row = existing.get(lang)
                if row is None:
                    conn.execute(
                        translations.insert().values(
                            article_id=article.id, language=lang, status=PENDING, source_hash=""
                        )
                    )
                    count += 1
                elif row.source_hash != article.content_hash and row.status != PENDING:
                    # Keep the old text until the new one is done: feeds show the last good version meanwhile.
                    conn.execute(
                        update(translations)
                        .where(and_(translations.c.article_id == article.id, translations.c.language == lang))
                        .values(status=PENDING, error="")
                    )
                    count += 1
        return count

    def ensure_languages(self, languages: Sequence[str]) -> int:
        """Queue every stored article for each language it lacks (a language added to the config)."""
        count = 0
        with self._tx() as conn:
            for lang in languages:
                missing = select(articles.c.id).where(
                    and_(
                        articles.c.language != lang,
                        ~select(translations.c.article_id)
                        .where(
                            and_(translations.c.article_id == articles.c.id, translations.c.language == lang)
                        )
                        .exists(),
                    )
                )
                ids = list(conn.execute(missing).scalars())
                if ids:
                    conn.execute(
                        translations.insert(),
                        [
                            {"article_id": i, "language": lang, "status": PENDING, "source_hash": ""}
                            for i in ids
                        ],
                    )
                    count += len(ids)
        return count

    def retry(self, statuses: Sequence[str]) -> int:
        """Put translations with these statuses back to pending (e.g. no-model after a model install)."""
        with self._tx() as conn:
            result = conn.execute(
                update(translations).where(translations.c.status.in_(list(statuses))).values(status=PENDING)
            )
            return int(result.rowcount or 0)

    def retry_due(self) -> int:
        """Put failed translations whose retry time has come back to pending; return how many."""
        now = _naive_utc(self.clock())
        with self._tx() as conn:
            result = conn.execute(
                update(translations)
                .where(
                    and_(
                        translations.c.status == FAILED,
                        # No retry time (recorded before retries were timed): due now.
                        translations.c.next_retry.is_(None) | (translations.c.next_retry <= now),
                    )
                )
                .values(status=PENDING)
            )
            return int(result.rowcount or 0)

    def retries_due(self) -> int:
        """How many failed translations may be retried now (read only)."""
        now = _naive_utc(self.clock())
        query = select(func.count()).where(
            and_(
                translations.c.status == FAILED,
                translations.c.next_retry.is_(None) | (translations.c.next_retry <= now),
            )
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def failures(self) -> list[Translation]:
        """Every failed translation (with its attempts and next retry), oldest article first."""
        query = (
            select(translations).where(translations.c.status == FAILED).order_by(translations.c.article_id)
        )
        with self.engine.connect() as conn:
            return [self._translation(r) for r in conn.execute(query)]

    def pending(self, language: str | None = None) -> list[tuple[int, str]]:
        """(article id, language) pairs waiting for translation."""
        query = select(translations.c.article_id, translations.c.language).where(
            translations.c.status == PENDING
        )
        if language is not None:
            query = query.where(translations.c.language == language)
        with self.engine.connect() as conn:
            return [
                (r.article_id, r.language) for r in conn.execute(query.order_by(translations.c.article_id))
            ]

    def save_translation(self, tr: Translation, backoff: Callable[[int], timedelta] | None = None) -> None:
        """Record a translation's outcome; a failed retranslation keeps the last good text.

        A failure counts an attempt and sets the next retry `backoff(attempts)` from now (without a backoff:
        the next cycle).
        """
        values: dict[str, Any] = {
            "status": tr.status,
            "engine": tr.engine,
            "model_version": tr.model_version,
            "pivot": tr.pivot,
            "error": tr.error,
            "updated": _naive_utc(tr.updated or self.clock()),
            "changed": _naive_utc(self.clock()),
        }
        key = and_(translations.c.article_id == tr.article_id, translations.c.language == tr.language)
        with self._tx() as conn:
            if tr.status == FAILED:
                attempts = (conn.execute(select(translations.c.attempts).where(key)).scalar() or 0) + 1
                values["attempts"] = attempts
                when = self.clock() + backoff(attempts) if backoff is not None else None
                values["next_retry"] = _naive_utc(when) if when is not None else None
            elif tr.status == DONE:
                values.update(attempts=0, next_retry=None, reviewed=tr.reviewed)
            if tr.status == DONE:
                values.update(
                    title=tr.title, summary=tr.summary, body_html=tr.body_html, source_hash=tr.source_hash
                )
                old = conn.execute(
                    select(
                        translations.c.title,
                        translations.c.summary,
                        translations.c.body_html,
                        translations.c.source_hash,
                        articles.c.updated,
                    )
                    .join(articles, articles.c.id == translations.c.article_id)
                    .where(
                        and_(
                            translations.c.article_id == tr.article_id, translations.c.language == tr.language
                        )
                    )
                ).first()
                if old is not None and (old.title, old.summary, old.body_html) == (
                    tr.title,
                    tr.summary,
                    tr.body_html,
                ):
                    # Same words as before: the entry did not change, so its `updated` must not either.
                    del values["updated"]
                elif old is not None and old.source_hash != tr.source_hash:
                    # New text for new source content changed when the source did: date it like the original,
                    # so entries translated in one batch do not all share one timestamp.
                    values["updated"] = old.updated
            else:
                # Only finished text moves `updated`: feeds date an entry by its content.
                del values["updated"]
            conn.execute(
                update(translations)
                .where(
                    and_(translations.c.article_id == tr.article_id, translations.c.language == tr.language)
                )
                .values(**values)
            )

    def translations_for(self, article_ids: Sequence[int], language: str) -> dict[int, Translation]:
        """Stored translations of these articles into one language, by article id."""
        query = select(translations).where(
            and_(translations.c.article_id.in_(list(article_ids)), translations.c.language == language)
        )
        with self.engine.connect() as conn:
            return {r.article_id: self._translation(r) for r in conn.execute(query)}

    @staticmethod
    def _translation(row: Any) -> Translation:
        return Translation(
            article_id=row.article_id,
            language=row.language,
            status=row.status,
            title=row.title,
            summary=row.summary,
            body_html=row.body_html,
            engine=row.engine,
            model_version=row.model_version,
            pivot=row.pivot,
            error=row.error,
            source_hash=row.source_hash,
            updated=_aware(row.updated),
            reviewed=bool(row.reviewed),
            attempts=row.attempts,
            next_retry=_aware(row.next_retry),
        )

    def counts(self) -> dict[str, dict[str, int]]:
        """Translation counts per language and status."""
        query = select(translations.c.language, translations.c.status, func.count()).group_by(
            translations.c.language, translations.c.status
        )
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for lang, status, n in conn.execute(query):
                out.setdefault(lang, {})[status] = n
        return out

    def errors(self, language: str, limit: int = 5) -> list[tuple[str, str, int]]:
        """The most common (status, error, count) among this language's unfinished translations."""
        n = func.count().label("n")
        query = (
            select(translations.c.status, translations.c.error, n)
            .where(and_(translations.c.language == language, translations.c.error != ""))
            .group_by(translations.c.status, translations.c.error)
            .order_by(n.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(r.status, r.error, r.n) for r in conn.execute(query)]

    def versions(self, language: str, limit: int) -> list[tuple[Article, Translation | None]]:
        """The newest `limit` articles readable in `language`: originals in it, or done translations."""
        return self._versions(language, None, limit)

    def versions_of(
        self, language: str, article_ids: Iterable[int]
    ) -> list[tuple[Article, Translation | None]]:
        """Those of these articles that are readable in `language`, newest first."""
        ids = list(article_ids)
        out = [
            v
            for start in range(0, len(ids), 500)
            for v in self._versions(language, ids[start : start + 500], None)
        ]
        out.sort(key=lambda v: (v[0].published, v[0].id), reverse=True)
        return out

    def _versions(
        self, language: str, ids: list[int] | None, limit: int | None
    ) -> list[tuple[Article, Translation | None]]:
        tr = translations
        query = (
            select(articles, *[c.label(f"tr_{c.name}") for c in tr.c])
            .select_from(
                articles.outerjoin(tr, and_(tr.c.article_id == articles.c.id, tr.c.language == language))
            )
            .where((articles.c.language == language) | (tr.c.status == DONE))
            .order_by(articles.c.published.desc(), articles.c.id.desc())
        )
        if ids is not None:
            query = query.where(articles.c.id.in_(ids))
        if limit is not None:
            query = query.limit(limit)
        out: list[tuple[Article, Translation | None]] = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                translation = None
                if row.language != language:
                    m = row._mapping
                    translation = Translation(
                        article_id=row.id,
                        language=language,
                        status=m["tr_status"],
                        title=m["tr_title"],
                        summary=m["tr_summary"],
                        body_html=m["tr_body_html"],
                        engine=m["tr_engine"],
                        model_version=m["tr_model_version"],
                        pivot=m["tr_pivot"],
                        error=m["tr_error"],
                        source_hash=m["tr_source_hash"],
                        updated=_aware(m["tr_updated"]),
                        reviewed=bool(m["tr_reviewed"]),
                    )
                out.append((self._article(row), translation))
        return out

    def languages_of(self, article_id: int) -> dict[str, str]:
        """Statuses of an article's translations, by language."""
        query = select(translations.c.language, translations.c.status).where(
            translations.c.article_id == article_id
        )
        with self.engine.connect() as conn:
            return {r.language: r.status for r in conn.execute(query)}

    def done_languages(self, article_ids: Sequence[int]) -> dict[int, set[str]]:
        """For each article, the languages it has a finished translation in."""
        out: dict[int, set[str]] = {i: set() for i in article_ids}
        query = select(translations.c.article_id, translations.c.language).where(
            and_(translations.c.article_id.in_(list(article_ids)), translations.c.status == DONE)
        )
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                out[r.article_id].add(r.language)
        return out

    # -- publishing state ---------------------------------------------------------------------------------

    def changed_since(self, since: datetime) -> set[int]:
        """Ids of articles whose content or any translation changed at or after `since` (index ranges only)."""
        moment = _naive_utc(since)
        query = union(
            select(articles.c.id.label("id")).where(articles.c.updated >= moment),
            select(translations.c.article_id.label("id")).where(translations.c.changed >= moment),
        )
        with self.engine.connect() as conn:
            return {int(i) for i in conn.execute(query).scalars()}

    def readable_ids(self, language: str) -> list[int]:
        """Every article readable in `language`, oldest first (a full rebuild only: this reads them all)."""
        tr = translations
        query = (
            select(articles.c.id)
            .select_from(
                articles.outerjoin(tr, and_(tr.c.article_id == articles.c.id, tr.c.language == language))
            )
            .where((articles.c.language == language) | (tr.c.status == DONE))
            .order_by(articles.c.published, articles.c.id)
        )
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def feed_pages(self, language: str, article_ids: Iterable[int] | None = None) -> dict[int, int | None]:
        """Where entries are published: None for the current feed, n for archive page n (those ids, or the
        current feed's when ids is None)."""
        fe = feed_entries
        query = select(fe.c.article_id, fe.c.page).where(fe.c.language == language)
        if article_ids is None:
            with self.engine.connect() as conn:
                return {int(r.article_id): r.page for r in conn.execute(query.where(fe.c.page.is_(None)))}
        ids = list(article_ids)
        out: dict[int, int | None] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):  # bounded statements, however many ids
                chunk = query.where(fe.c.article_id.in_(ids[start : start + 500]))
                out.update({int(r.article_id): r.page for r in conn.execute(chunk)})
        return out

    def page_ids(self, language: str, page: int) -> list[int]:
        """The article ids filed in one archive page."""
        fe = feed_entries
        query = select(fe.c.article_id).where(and_(fe.c.language == language, fe.c.page == page))
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def last_page(self, language: str) -> tuple[int, int]:
        """(number, entry count) of the newest archive page; (0, 0) when nothing is archived."""
        fe = feed_entries
        with self.engine.connect() as conn:
            page = conn.execute(select(func.max(fe.c.page)).where(fe.c.language == language)).scalar()
            if page is None:
                return 0, 0
            count = conn.execute(
                select(func.count()).select_from(fe).where(and_(fe.c.language == language, fe.c.page == page))
            ).scalar_one()
        return int(page), int(count)

    def set_feed_pages(self, language: str, pages: dict[int, int | None]) -> None:
        """File entries in the current feed (None) or an archive page."""
        fe = feed_entries
        with self._tx() as conn:
            for start in range(0, len(pages), 500):  # bounded statements on a full rebuild
                chunk = dict(list(pages.items())[start : start + 500])
                conn.execute(
                    delete(fe).where(and_(fe.c.language == language, fe.c.article_id.in_(list(chunk))))
                )
                conn.execute(
                    fe.insert(),
                    [{"language": language, "article_id": i, "page": p} for i, p in chunk.items()],
                )

    def publish_mark(self, language: str) -> tuple[datetime, str, str] | None:
        """(start time, settings signature, current feed hash) of the last successful publish, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(publish_marks).where(publish_marks.c.language == language)).first()
        return None if row is None else (row.since.replace(tzinfo=UTC), row.signature, row.current)

    def set_publish_mark(self, language: str, since: datetime, signature: str, current: str) -> None:
        """Record a successful publish of a language that started at `since`."""
        with self._tx() as conn:
            conn.execute(delete(publish_marks).where(publish_marks.c.language == language))
            conn.execute(
                publish_marks.insert().values(
                    language=language, since=_naive_utc(since), signature=signature, current=current
                )
            )

    def started(self) -> datetime | None:
        """When the store saw its first article (None for an empty store): a date that never moves."""
        with self.engine.connect() as conn:
            return _aware(conn.execute(select(func.min(articles.c.first_seen))).scalar())

    def article_count(self) -> int:
        """How many articles are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())

    # -- human corrections -----------------------------------------------------------------------------

    def article_by_key(self, source: str, key: str) -> Article | None:
        """The stored article with this source and id, if any."""
        query = select(articles).where(and_(articles.c.source == source, articles.c.key == key))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else self._article(row)

    def correction(self, article_id: int, language: str) -> tuple[str, str] | None:
        """(file hash, article hash) of the correction applied to this translation, if any."""
        query = select(corrections.c.file_hash, corrections.c.source_hash).where(
            and_(corrections.c.article_id == article_id, corrections.c.language == language)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row.file_hash, row.source_hash)

    def apply_correction(self, tr: Translation, path: str, file_hash: str) -> None:
        """Store a human correction as the finished, reviewed translation, and remember its file."""
        self.save_translation(tr)
        key = and_(corrections.c.article_id == tr.article_id, corrections.c.language == tr.language)
        values = {"path": path, "file_hash": file_hash, "source_hash": tr.source_hash,
                  "applied": _naive_utc(self.clock())}  # fmt: skip
        with self._tx() as conn:
            if conn.execute(select(corrections.c.path).where(key)).first() is None:
                conn.execute(
                    corrections.insert().values(article_id=tr.article_id, language=tr.language, **values)
                )
            else:
                conn.execute(update(corrections).where(key).values(**values))

    def drop_correction(self, article_id: int, language: str) -> None:
        """Forget a correction whose file is gone; its translation goes back to the machine."""
        with self._tx() as conn:
            conn.execute(
                delete(corrections).where(
                    and_(corrections.c.article_id == article_id, corrections.c.language == language)
                )
            )
            conn.execute(
                update(translations)
                .where(
                    and_(
                        translations.c.article_id == article_id,
                        translations.c.language == language,
                        translations.c.reviewed.is_(True),
                    )
                )
                .values(status=PENDING, reviewed=False)
            )

    def corrections(self) -> list[tuple[int, str, str, bool]]:
        """Every remembered correction: (article id, language, path, stale), stale when the article changed."""
        query = select(
            corrections.c.article_id, corrections.c.language, corrections.c.path,
            (corrections.c.source_hash != articles.c.content_hash).label("stale"),
        ).select_from(corrections.join(articles, articles.c.id == corrections.c.article_id))  # fmt: skip
        with self.engine.connect() as conn:
            return [(r.article_id, r.language, r.path, bool(r.stale)) for r in conn.execute(query)]

    # -- sentence memory -------------------------------------------------------------------------------

    def memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]:
        """Remembered targets for these source-sentence hashes."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
                chunk = unique[start : start + 500]
                query = select(memory.c.source_hash, memory.c.target).where(
                    and_(memory.c.pair == pair, memory.c.model == model, memory.c.source_hash.in_(chunk))
                )
                found.update({r.source_hash: r.target for r in conn.execute(query)})
        return found

    def memory_store(self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """Remember (hash, source, target) sentences; existing ones are left alone."""
        if not rows:
            return
        now = _naive_utc(self.clock())
        with self._tx() as conn:
            known = set()
            hashes = [h for h, _, _ in rows]
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                known.update(
                    conn.execute(
                        select(memory.c.source_hash).where(
                            and_(
                                memory.c.pair == pair,
                                memory.c.model == model,
                                memory.c.source_hash.in_(chunk),
                            )
                        )
                    ).scalars()
                )
            fresh = {h: (s, t) for h, s, t in rows if h not in known}
            if fresh:
                conn.execute(
                    memory.insert(),
                    [
                        {
                            "pair": pair,
                            "model": model,
                            "source_hash": h,
                            "source": s,
                            "target": t,
                            "created": now,
                        }
                        for h, (s, t) in fresh.items()
                    ],
                )

    def memory_count(self, pair: str, hits: int, misses: int) -> None:
        """Add to a pair's hit and miss counters."""
        with self._tx() as conn:
            row = conn.execute(select(memory_stats).where(memory_stats.c.pair == pair)).first()
            if row is None:
                conn.execute(memory_stats.insert().values(pair=pair, hits=hits, misses=misses))
            else:
                conn.execute(
                    update(memory_stats)
                    .where(memory_stats.c.pair == pair)
                    .values(hits=row.hits + hits, misses=row.misses + misses)
                )

    def memory_stats(self) -> dict[str, tuple[int, int, int]]:
        """Per pair: (remembered sentences, hits, misses)."""
        out: dict[str, tuple[int, int, int]] = {}
        with self.engine.connect() as conn:
            sizes = dict(
                [tuple(r) for r in conn.execute(select(memory.c.pair, func.count()).group_by(memory.c.pair))]
            )
            stats = {r.pair: (r.hits, r.misses) for r in conn.execute(select(memory_stats))}
        for pair in sorted(set(sizes) | set(stats)):
            hits, misses = stats.get(pair, (0, 0))
            out[pair] = (int(sizes.get(pair, 0)), hits, misses)
        return out

    # -- sources ---------------------------------------------------------------------------------------

    def record_poll(
        self,
        name: str,
        error: str = "",
        problems: Sequence[str] = (),
        next_poll: datetime | None = None,
    ) -> None:
        """Remember how a source's last poll went, and when it may be polled again (None: on schedule)."""
        now = _naive_utc(self.clock())
        with self._tx() as conn:
            row = conn.execute(select(source_state).where(source_state.c.name == name)).first()
            values: dict[str, Any] = {
                "last_poll": now,
                "last_error": error,
                "problems": json.dumps(list(problems), ensure_ascii=False),
                "next_poll": _naive_utc(next_poll) if next_poll is not None else None,
            }
            if error:
                values["failures"] = (row.failures if row is not None else 0) + 1
                values["last_error_at"] = now
            else:
                values["failures"] = 0
                values["last_success"] = now
            if row is None:
                conn.execute(source_state.insert().values(name=name, **values))
            else:
                conn.execute(update(source_state).where(source_state.c.name == name).values(**values))

    def source_states(self) -> dict[str, dict[str, Any]]:
        """Per source: last poll, last success, last error, failures, problems."""
        with self.engine.connect() as conn:
            return {
                r.name: {
                    "last_poll": _aware(r.last_poll),
                    "last_success": _aware(r.last_success),
                    "last_error": r.last_error,
                    "failures": r.failures,
                    "problems": json.loads(r.problems),
                    "last_error_at": _aware(r.last_error_at),
                    "next_poll": _aware(r.next_poll),
                }
                for r in conn.execute(select(source_state))
            }

    # -- service state and history (status, status page) --------------------------------------------------

    def set_state(self, key: str, value: str) -> None:
        """Remember one named fact about the service ("" clears it)."""
        now = _naive_utc(self.clock())
        with self._tx() as conn:
            conn.execute(service_state.delete().where(service_state.c.key == key))
            if value:
                conn.execute(service_state.insert().values(key=key, value=value, updated=now))

    def states(self, prefix: str = "") -> dict[str, tuple[str, datetime]]:
        """Named facts whose key starts with prefix: key -> (value, when it was set)."""
        query = select(service_state).where(service_state.c.key.startswith(prefix, autoescape=True))
        with self.engine.connect() as conn:
            return {r.key: (r.value, r.updated.replace(tzinfo=UTC)) for r in conn.execute(query)}

    def record_publish(self, language: str, files_written: int) -> None:
        """Remember a successful publish of one language and sample its translation backlog."""
        now = _naive_utc(self.clock())
        with self._tx() as conn:
            conn.execute(
                service_state.delete().where(
                    service_state.c.key.in_([f"publish:{language}", f"publish_error:{language}"])
                )
            )
            conn.execute(
                service_state.insert().values(
                    key=f"publish:{language}", value=str(files_written), updated=now
                )
            )
            pending = conn.execute(
                select(func.count())
                .select_from(translations)
                .where(and_(translations.c.language == language, translations.c.status == PENDING))
            ).scalar_one()
            conn.execute(backlog_samples.delete().where(
                and_(backlog_samples.c.time == now, backlog_samples.c.language == language)
            ))  # fmt: skip
            conn.execute(backlog_samples.insert().values(time=now, language=language, pending=int(pending)))
            # The chart shows weeks, not years: keep the table small.
            conn.execute(backlog_samples.delete().where(backlog_samples.c.time < now - BACKLOG_KEPT))

    def requeue_stale(self) -> int:
        """Queue again done translations of an older text (an update whose queueing a crash cut short)."""
        stale = (
            select(articles.c.content_hash)
            .where(articles.c.id == translations.c.article_id)
            .scalar_subquery()
        )
        with self._tx() as conn:
            result = conn.execute(
                update(translations)
                .where(and_(translations.c.status == DONE, translations.c.source_hash != stale))
                .values(status=PENDING, error="")
            )
            return int(result.rowcount or 0)

    def articles_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """Articles first seen per UTC day and language since a time: day -> language -> count."""
        day = func.date(articles.c.first_seen).label("day")
        query = (
            select(day, articles.c.language, func.count())
            .where(articles.c.first_seen >= _naive_utc(since))
            .group_by(day, articles.c.language)
        )
        return self._per_day(query)

    def translations_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """Finished translations per UTC day (of their last change) and language: day -> language -> count."""
        day = func.date(translations.c.updated).label("day")
        query = (
            select(day, translations.c.language, func.count())
            .where(and_(translations.c.status == DONE, translations.c.updated >= _naive_utc(since)))
            .group_by(day, translations.c.language)
        )
        return self._per_day(query)

    def _per_day(self, query: Any) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for day, lang, n in conn.execute(query):
                out.setdefault(str(day), {})[lang] = int(n)
        return out

    def backlog_history(self, since: datetime) -> list[tuple[datetime, str, int]]:
        """(time, language, pending) samples since a time, oldest first."""
        query = (
            select(backlog_samples)
            .where(backlog_samples.c.time >= _naive_utc(since))
            .order_by(backlog_samples.c.time)
        )
        with self.engine.connect() as conn:
            return [(r.time.replace(tzinfo=UTC), r.language, r.pending) for r in conn.execute(query)]

    def integrity_check(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound); "ok" for other databases."""
        if self.engine.dialect.name != "sqlite":
            return "ok"
        with self.engine.connect() as conn:
            return "; ".join(str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check"))

    # -- pulls -----------------------------------------------------------------------------------------

    def record_pulls(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add aggregated pulls: dicts of day, partner, feed, pulls, not_modified, last_pull, user_agent."""
        if not rows:
            return
        with self._tx() as conn:
            for r in rows:
                key = and_(
                    pulls.c.day == r["day"], pulls.c.partner == r["partner"], pulls.c.feed == r["feed"]
                )
                old = conn.execute(select(pulls.c.pulls, pulls.c.not_modified).where(key)).first()
                values = {"last_pull": _naive_utc(r["last_pull"]), "user_agent": r["user_agent"][:500]}
                if old is None:
                    conn.execute(
                        pulls.insert().values(
                            day=r["day"], partner=r["partner"], feed=r["feed"], pulls=r["pulls"],
                            not_modified=r["not_modified"], **values,
                        )
                    )  # fmt: skip
                else:
                    conn.execute(
                        update(pulls)
                        .where(key)
                        .values(pulls=old.pulls + r["pulls"], not_modified=old.not_modified + r["not_modified"],
                                **values)
                    )  # fmt: skip

    def pull_stats(self, since_day: str) -> list[dict[str, Any]]:
        """Per partner and feed since a day ("YYYY-MM-DD"): pulls, 304s, days seen, last pull, user agent."""
        query = (
            select(pulls).where(pulls.c.day >= since_day).order_by(pulls.c.partner, pulls.c.feed, pulls.c.day)
        )
        out: dict[tuple[str, str], dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                row = out.setdefault(
                    (r.partner, r.feed),
                    {"partner": r.partner, "feed": r.feed, "pulls": 0, "not_modified": 0, "days": 0,
                     "last_pull": None, "user_agent": ""},
                )  # fmt: skip
                row["pulls"] += r.pulls
                row["not_modified"] += r.not_modified
                row["days"] += 1
                last = _aware(r.last_pull)
                if row["last_pull"] is None or (last is not None and last >= row["last_pull"]):
                    row["last_pull"], row["user_agent"] = last, r.user_agent
        return list(out.values())

    def last_pulls(self) -> dict[str, datetime]:
        """Per partner (all time): the last pull."""
        query = select(pulls.c.partner, func.max(pulls.c.last_pull)).group_by(pulls.c.partner)
        with self.engine.connect() as conn:
            return {r[0]: r[1].replace(tzinfo=UTC) for r in conn.execute(query) if r[1] is not None}

    def page_state(self, source: str, url: str) -> tuple[str, str, str]:
        """(etag, last_modified, fingerprint) remembered for one URL of a source; empty strings if none."""
        query = select(source_pages).where(and_(source_pages.c.source == source, source_pages.c.url == url))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return ("", "", "") if row is None else (row.etag, row.last_modified, row.fingerprint)

    def save_page_state(
        self,
        source: str,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        """Remember validators and/or the listing fingerprint of one URL (None leaves a field alone)."""
        values: dict[str, Any] = {"checked": _naive_utc(self.clock())}
        for name, value in (("etag", etag), ("last_modified", last_modified), ("fingerprint", fingerprint)):
            if value is not None:
                values[name] = value
        where = and_(source_pages.c.source == source, source_pages.c.url == url)
        with self._tx() as conn:
            if conn.execute(select(source_pages.c.url).where(where)).first() is None:
                conn.execute(source_pages.insert().values(source=source, url=url, **values))
            else:
                conn.execute(update(source_pages).where(where).values(**values))
