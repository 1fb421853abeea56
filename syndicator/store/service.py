"""Service state and history: named facts, publish records and the status page's series."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from syndicator.models import DONE, PENDING
from syndicator.store.base import StoreBase
from syndicator.store.schema import (
    articles,
    backlog_samples,
    clean_text,
    naive_utc,
    service_state,
    translations,
)

BACKLOG_KEPT = timedelta(days=60)  # backlog samples older than this are dropped


class ServiceMixin(StoreBase):
    """Service state and history: named facts, publish records and the status page's series."""

    # -- service state and history (status, status page) --------------------------------------------------

    def set_state(self, key: str, value: str) -> None:
        """Remember one named fact about the service ("" clears it)."""
        now = naive_utc(self.clock())
        with self._tx() as conn:
            if value:
                self._put_state(conn, key, value, now)
            else:
                conn.execute(service_state.delete().where(service_state.c.key == key))

    def _put_state(self, conn: Any, key: str, value: str, now: datetime) -> None:
        insert = self._insert(service_state).values(key=key, value=clean_text(value), updated=now)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=[service_state.c.key], set_={"value": insert.excluded.value, "updated": now}
            )
        )

    def states(self, prefix: str = "") -> dict[str, tuple[str, datetime]]:
        """Named facts whose key starts with prefix: key -> (value, when it was set)."""
        query = select(service_state).where(service_state.c.key.startswith(prefix, autoescape=True))
        with self.engine.connect() as conn:
            return {r.key: (r.value, r.updated.replace(tzinfo=UTC)) for r in conn.execute(query)}

    # -- publish requests (the celery runner's debounced publish task) ---------------------------------------

    def want_publish(self, language: str, stale_after: timedelta) -> bool:
        """Note that `language` needs publishing; True when the caller must send the publish task: no request
        was waiting, or the waiting one is older than `stale_after` (its task was lost).

        The request is a named fact `publish_wanted:<lang>` holding when it was first made and a token that
        every later request replaces, so a publish that ran while new translations arrived can tell (see
        `publish_done`). Two callers that both see no request both send a task: one publish too many is
        harmless, one too few is not.
        """
        key = f"publish_wanted:{language}"
        now = self.clock()
        with self._tx() as conn:
            row = conn.execute(select(service_state.c.value).where(service_state.c.key == key)).first()
            since = now
            if row is not None:
                try:
                    since = datetime.fromisoformat(json.loads(row.value)["since"])
                except (ValueError, KeyError, TypeError):
                    since = now - stale_after  # unreadable: treat as stale
            send = row is None or since <= now - stale_after
            if send:
                since = now
            value = json.dumps({"since": since.isoformat(), "token": uuid.uuid4().hex})
            self._put_state(conn, key, value, naive_utc(now))
            return send

    def publish_wanted(self, language: str) -> str | None:
        """The waiting publish request of a language (its token), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(service_state.c.value).where(service_state.c.key == f"publish_wanted:{language}")
            ).first()
        if row is None:
            return None
        try:
            return str(json.loads(row.value)["token"])
        except (ValueError, KeyError, TypeError):
            return row.value

    def publish_done(self, language: str, token: str) -> bool:
        """Clear the request `token` after publishing it; False when a newer request came meanwhile (it
        stays, and needs a publish of its own)."""
        key = f"publish_wanted:{language}"
        with self._tx() as conn:
            row = conn.execute(select(service_state.c.value).where(service_state.c.key == key)).first()
            if row is None:
                return True
            try:
                current = str(json.loads(row.value)["token"])
            except (ValueError, KeyError, TypeError):
                current = row.value
            if current != token:
                return False
            conn.execute(
                service_state.delete().where(
                    and_(service_state.c.key == key, service_state.c.value == row.value)
                )
            )
            return True

    def record_publish(self, language: str, files_written: int) -> None:
        """Remember a successful publish of one language and sample its translation backlog."""
        now = naive_utc(self.clock())
        with self._tx() as conn:
            conn.execute(service_state.delete().where(service_state.c.key == f"publish_error:{language}"))
            self._put_state(conn, f"publish:{language}", str(files_written), now)
            pending = conn.execute(
                select(func.count())
                .select_from(translations)
                .where(and_(translations.c.language == language, translations.c.status == PENDING))
            ).scalar_one()
            sample = self._insert(backlog_samples).values(time=now, language=language, pending=int(pending))
            conn.execute(
                sample.on_conflict_do_update(
                    index_elements=[backlog_samples.c.time, backlog_samples.c.language],
                    set_={"pending": sample.excluded.pending},
                )
            )
            # The chart shows weeks, not years: keep the table small.
            conn.execute(backlog_samples.delete().where(backlog_samples.c.time < now - BACKLOG_KEPT))

    def articles_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """Articles first seen per UTC day and language since a time: day -> language -> count."""
        day = func.date(articles.c.first_seen).label("day")
        query = (
            select(day, articles.c.language, func.count())
            .where(articles.c.first_seen >= naive_utc(since))
            .group_by(day, articles.c.language)
        )
        return self._per_day(query)

    def translations_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """Finished translations per UTC day (when their text last changed) and language: day -> language ->
        count."""
        day = func.date(translations.c.revised).label("day")
        query = (
            select(day, translations.c.language, func.count())
            .where(and_(translations.c.status == DONE, translations.c.revised >= naive_utc(since)))
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
            .where(backlog_samples.c.time >= naive_utc(since))
            .order_by(backlog_samples.c.time)
        )
        with self.engine.connect() as conn:
            return [(r.time.replace(tzinfo=UTC), r.language, r.pending) for r in conn.execute(query)]
