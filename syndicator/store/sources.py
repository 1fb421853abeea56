"""Source state: how each poll went, and per URL the HTTP validators and listing fingerprints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update

from syndicator.store.base import StoreBase
from syndicator.store.schema import aware_utc, naive_utc, source_pages, source_state


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
        with self._tx() as conn:
            row = conn.execute(select(source_state).where(source_state.c.name == name)).first()
            values: dict[str, Any] = {
                "last_poll": now,
                "last_error": error,
                "problems": json.dumps(list(problems), ensure_ascii=False),
                "next_poll": naive_utc(next_poll) if next_poll is not None else None,
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
                    "last_poll": aware_utc(r.last_poll),
                    "last_success": aware_utc(r.last_success),
                    "last_error": r.last_error,
                    "failures": r.failures,
                    "problems": json.loads(r.problems),
                    "last_error_at": aware_utc(r.last_error_at),
                    "next_poll": aware_utc(r.next_poll),
                }
                for r in conn.execute(select(source_state))
            }

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
        values: dict[str, Any] = {"checked": naive_utc(self.clock())}
        for name, value in (("etag", etag), ("last_modified", last_modified), ("fingerprint", fingerprint)):
            if value is not None:
                values[name] = value
        where = and_(source_pages.c.source == source, source_pages.c.url == url)
        with self._tx() as conn:
            if conn.execute(select(source_pages.c.url).where(where)).first() is None:
                conn.execute(source_pages.insert().values(source=source, url=url, **values))
            else:
                conn.execute(update(source_pages).where(where).values(**values))
