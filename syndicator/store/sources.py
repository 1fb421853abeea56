"""Source state: how each poll went, and per URL the HTTP validators and listing fingerprints."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select

from syndicator.store.base import StoreBase
from syndicator.store.schema import (
    aware_utc,
    bounded_key,
    clean_text,
    naive_utc,
    polls,
    source_pages,
    source_state,
)

POLLS_KEPT = timedelta(days=60)  # poll history older than this is dropped

VERSION_TAG = "file:"  # how a drop-folder file's version tag starts (sources/folder.py makes them)


class SourcesMixin(StoreBase):
    """Source state: how each poll went, and per URL the HTTP validators and listing fingerprints."""

    # -- sources ---------------------------------------------------------------------------------------

    def record_poll(
        self,
        name: str,
        error: str = "",
        problems: Sequence[str] = (),
        next_poll: datetime | None = None,
    ) -> None:
        """Remember how a source's last poll went, and when it may be polled again (None: on schedule)."""
        now = naive_utc(self.clock())
        values: dict[str, Any] = {
            "last_poll": now,
            "last_error": clean_text(error),
            "problems": clean_text(json.dumps(list(problems), ensure_ascii=False)),
            "next_poll": naive_utc(next_poll) if next_poll is not None else None,
        }
        if error:
            values["last_error_at"] = now
        else:
            values["last_success"] = now
        insert = self._insert(source_state).values(name=name, failures=1 if error else 0, **values)
        # Failures in a row are counted in SQL: no read-then-write for another poller to slip between.
        failures = source_state.c.failures + 1 if error else 0
        with self._tx() as conn:
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[source_state.c.name], set_={**values, "failures": failures}
                )
            )

    def start_poll(self, name: str, gap: timedelta, poller: str) -> bool:
        """Take the next poll of a source for `poller` unless one started less than `gap` ago; True when
        taken (and recorded in the poll history).

        One statement decides (an upsert whose update only happens when the last start is old enough): of
        two schedulers asking at once, as when a standby takes over from one that has not noticed yet that it
        lost the lock, exactly one gets the poll.
        """
        now = naive_utc(self.clock())
        insert = self._insert(source_state).values(name=name, poll_started=now)
        statement = insert.on_conflict_do_update(
            index_elements=[source_state.c.name],
            set_={"poll_started": now},
            where=source_state.c.poll_started.is_(None) | (source_state.c.poll_started <= now - gap),
        ).returning(source_state.c.name)
        with self._tx() as conn:
            if conn.execute(statement).first() is None:
                return False
            history = self._insert(polls).values(source=name, started=now, poller=clean_text(poller)[:200])
            conn.execute(history.on_conflict_do_nothing())
            conn.execute(polls.delete().where(polls.c.started < now - POLLS_KEPT))
            return True

    def poll_history(self, name: str | None = None) -> list[tuple[str, datetime, str]]:
        """(source, started, poller) of the recorded polls, oldest first."""
        query = select(polls).order_by(polls.c.started, polls.c.source)
        if name is not None:
            query = query.where(polls.c.source == name)
        with self.engine.connect() as conn:
            return [(r.source, r.started.replace(tzinfo=UTC), r.poller) for r in conn.execute(query)]

    def source_states(self) -> dict[str, dict[str, Any]]:
        """Per source: last poll, last success, last error, failures, problems."""
        with self.engine.connect() as conn:
            return {
                r.name: {
                    "last_poll": aware_utc(r.last_poll),
                    "last_success": aware_utc(r.last_success),
                    "last_error": r.last_error,
                    "failures": r.failures,
                    "problems": json.loads(r.problems),
                    "last_error_at": aware_utc(r.last_error_at),
                    "next_poll": aware_utc(r.next_poll),
                    "poll_started": aware_utc(r.poll_started),
                }
                for r in conn.execute(select(source_state))
            }

    def page_state(self, source: str, url: str) -> tuple[str, str, str]:
        """(etag, last_modified, fingerprint) remembered for one URL of a source; empty strings if none."""
        key = bounded_key(clean_text(url))
        query = select(source_pages).where(and_(source_pages.c.source == source, source_pages.c.url == key))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return ("", "", "") if row is None else (row.etag, row.last_modified, row.fingerprint)

    def page_states(self, source: str) -> dict[str, tuple[str, str, str]]:
        """Every URL's (etag, last_modified, fingerprint) remembered for a source, in one read."""
        query = select(source_pages).where(source_pages.c.source == source)
        with self.engine.connect() as conn:
            return {row.url: (row.etag, row.last_modified, row.fingerprint) for row in conn.execute(query)}

    def keep_version_tags(self, source: str, tags: Mapping[str, str]) -> int:
        """Remember the version tag of each file of a drop-folder source (path → tag, kept as the page state's
        etag) and forget the files no longer there; return the rows written.

        One read, and one write transaction only when a tag differs from the stored one: an unchanged folder
        costs no write. Only rows holding version tags ("file:…") are forgotten, never a web page's state."""
        wanted = {bounded_key(clean_text(path)): clean_text(tag) for path, tag in tags.items()}
        query = select(source_pages.c.url, source_pages.c.etag).where(
            and_(source_pages.c.source == source, source_pages.c.etag.startswith(VERSION_TAG))
        )
        with self.engine.connect() as conn:
            stored = {row.url: row.etag for row in conn.execute(query)}
        changed = {path: tag for path, tag in wanted.items() if stored.get(path) != tag}
        gone = [path for path in stored if path not in wanted]
        if not changed and not gone:
            return 0
        now = naive_utc(self.clock())
        with self._tx() as conn:
            for path, tag in changed.items():
                values = {"etag": tag, "checked": now}
                conn.execute(
                    self._insert(source_pages)
                    .values(source=source, url=path, **values)
                    .on_conflict_do_update(
                        index_elements=[source_pages.c.source, source_pages.c.url], set_=values
                    )
                )
            for chunk in range(0, len(gone), 500):
                conn.execute(
                    delete(source_pages).where(
                        and_(
                            source_pages.c.source == source, source_pages.c.url.in_(gone[chunk : chunk + 500])
                        )
                    )
                )
        return len(changed) + len(gone)

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
        values: dict[str, Any] = {"checked": naive_utc(self.clock())}
        for name, value in (("etag", etag), ("last_modified", last_modified), ("fingerprint", fingerprint)):
            if value is not None:
                values[name] = clean_text(value)
        insert = self._insert(source_pages).values(source=source, url=bounded_key(clean_text(url)), **values)
        with self._tx() as conn:
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[source_pages.c.source, source_pages.c.url], set_=values
                )
            )
