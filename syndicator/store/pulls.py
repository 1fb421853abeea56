"""Feed pulls: per-day counts per partner and feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select

from syndicator.store.base import StoreBase
from syndicator.store.schema import aware_utc, clean_text, naive_utc, pulls


class PullsMixin(StoreBase):
    """Feed pulls: per-day counts per partner and feed."""

    # -- pulls -----------------------------------------------------------------------------------------

    def record_pulls(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add aggregated pulls: dicts of day, partner, feed, pulls, not_modified, last_pull, user_agent.

        The counts are added in SQL, so servers on several machines recording the same feed all count."""
        if not rows:
            return
        insert = self._insert(pulls)
        newer = insert.excluded.last_pull >= pulls.c.last_pull
        upsert = insert.on_conflict_do_update(
            index_elements=[pulls.c.day, pulls.c.partner, pulls.c.feed],
            set_={
                "pulls": pulls.c.pulls + insert.excluded.pulls,
                "not_modified": pulls.c.not_modified + insert.excluded.not_modified,
                # The newest pull's time and agent, whichever server's batch arrives first.
                "last_pull": case((newer, insert.excluded.last_pull), else_=pulls.c.last_pull),
                "user_agent": case((newer, insert.excluded.user_agent), else_=pulls.c.user_agent),
            },
        )
        records = [
            {"day": r["day"], "partner": r["partner"], "feed": r["feed"], "pulls": r["pulls"],
             "not_modified": r["not_modified"], "last_pull": naive_utc(r["last_pull"]),
             "user_agent": clean_text(r["user_agent"][:500])}
            for r in rows
        ]  # fmt: skip
        with self._tx() as conn:
            conn.execute(upsert, records)

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
                last = aware_utc(r.last_pull)
                if row["last_pull"] is None or (last is not None and last >= row["last_pull"]):
                    row["last_pull"], row["user_agent"] = last, r.user_agent
        return list(out.values())

    def last_pulls(self) -> dict[str, datetime]:
        """Per partner (all time): the last pull."""
        query = select(pulls.c.partner, func.max(pulls.c.last_pull)).group_by(pulls.c.partner)
        with self.engine.connect() as conn:
            return {r[0]: r[1].replace(tzinfo=UTC) for r in conn.execute(query) if r[1] is not None}
