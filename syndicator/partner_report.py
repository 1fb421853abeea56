"""Partners' pull statistics as a report: `syndicator partners`, and the stopped-partner check of `status`.

It only reads rows the server's PullRecorder (serve/stats.py) stored; status and the CLI use it without
importing the server.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

PUBLIC = ""  # the partner name of anonymous pulls


def partner_report(
    stats: list[dict[str, Any]],
    last_pulls: dict[str, datetime],
    partners: list[str],
    days: int,
    stale_after: timedelta,
    now: datetime,
) -> list[dict[str, Any]]:
    """One row per partner (and the public): pulls per day, 304 share, last pull, stale flag, feeds."""
    rows = []
    for name in [*partners, PUBLIC]:
        mine = [s for s in stats if s["partner"] == name]
        if name == PUBLIC and not mine:
            continue
        total = sum(s["pulls"] for s in mine)
        not_modified = sum(s["not_modified"] for s in mine)
        last = last_pulls.get(name)
        rows.append(
            {
                "partner": name or "(public)",
                "pulls": total,
                "pulls_per_day": round(total / days, 1),
                "not_modified_share": round(not_modified / total, 3) if total else None,
                "last_pull": last,
                "stopped": name != PUBLIC and last is not None and now - last > stale_after,
                "never": name != PUBLIC and last is None,
                "feeds": sorted(mine, key=lambda s: s["feed"]),
            }
        )
    return rows


def format_report(rows: list[dict[str, Any]], days: int, stale_after: str) -> str:
    """The partner report as text for a terminal."""
    lines = [f"pulls over the last {days} day(s); a partner is flagged after {stale_after} without a pull"]
    if not rows:
        lines.append("  no partners in config/partners.toml and no pulls recorded")
    for r in rows:
        last = f"{r['last_pull']:%Y-%m-%d %H:%M} UTC" if r["last_pull"] else "never"
        share = "n/a" if r["not_modified_share"] is None else f"{r['not_modified_share']:.0%}"
        flag = "  <-- STOPPED PULLING" if r["stopped"] else "  <-- never pulled" if r["never"] else ""
        lines.append(
            f"  {r['partner']}: {r['pulls_per_day']} pulls/day, 304 share {share}, last pull {last}{flag}"
        )
        for f in r["feeds"]:
            fshare = f"{f['not_modified'] / f['pulls']:.0%}" if f["pulls"] else "n/a"
            flast = f"{f['last_pull']:%Y-%m-%d %H:%M}" if f["last_pull"] else "never"
            lines.append(
                f"    {f['feed']}: {f['pulls'] / days:.1f} pulls/day ({f['pulls']} in all), 304 {fshare}, "
                f"last {flast}, agent {f['user_agent']!r}"
            )
    return "\n".join(lines)
