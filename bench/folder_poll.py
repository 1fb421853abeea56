"""Polling a drop folder whose files did not change: time per poll and write transactions per poll.

A temp instance with a folder source of --files Markdown articles (the size of bench/poll_latency.py's), stored
by a first poll; then --polls polls of the unchanged folder, then polls after one file was edited, taking turns,
each timed and with the store's write transactions counted (on SQLite every write transaction starts with
BEGIN IMMEDIATE, store/base.py; on PostgreSQL, commits). Prints min / median / max per kind of poll.

    .venv/bin/python bench/folder_poll.py               # 800 files, 7 polls of each kind
    .venv/bin/python bench/folder_poll.py --quick       # 20 files, 2 polls: proves the script works
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402

from syndicator.config import load_config  # noqa: E402
from syndicator.models import CycleReport  # noqa: E402
from syndicator.pipeline import open_context  # noqa: E402
from syndicator.pipeline.collect import collect  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.support.service import write_article  # noqa: E402


def spread(values: list[float], scale: float = 1.0, fmt: str = ".0f") -> str:
    """'min / median / max'."""
    return " / ".join(format(v * scale, fmt) for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    """Build the folder, poll it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=800)
    parser.add_argument("--polls", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.files, args.polls = 20, 2
    body = " ".join(f"Sentence {i} tells the harbour news of the day." for i in range(12))
    with tempfile.TemporaryDirectory(prefix="folder-poll-") as tmp:
        root = Path(tmp) / "instance"
        (root / "articles").mkdir(parents=True)
        write_config(root, targets=("fr",), engine="pseudo")
        for n in range(args.files):
            write_article(
                root / "articles", f"story-{n:04d}", f"Story {n}", f"{body}\n\n{body}", day=1 + n % 28
            )
        ctx = open_context(load_config(root / "config" / "syndicator.toml"))
        transactions = [0]

        def count(*args: object) -> None:
            statement = args[2] if len(args) > 2 else ""
            if not isinstance(statement, str) or statement.startswith("BEGIN IMMEDIATE"):
                transactions[0] += 1

        event.listen(ctx.store.engine, "before_cursor_execute", count)
        if ctx.store.engine.dialect.name != "sqlite":
            event.listen(ctx.store.engine, "commit", count)

        def poll() -> tuple[float, int, CycleReport]:
            report = CycleReport()
            transactions[0] = 0
            start = time.perf_counter()
            collect(ctx, report, force=True)
            return time.perf_counter() - start, transactions[0], report

        first, first_tx, report = poll()
        assert report.new == args.files, report
        rows: dict[str, tuple[list[float], list[int]]] = {
            "unchanged folder": ([], []),
            "one file edited": ([], []),
        }
        for n in range(args.polls):
            seconds, tx, report = poll()
            assert report.new == report.updated == 0 and not report.problems, report
            rows["unchanged folder"][0].append(seconds)
            rows["unchanged folder"][1].append(tx)
            path = write_article(root / "articles", "story-0000", f"Story 0, edit {n}", body)
            os.utime(path, ns=(time.time_ns(), time.time_ns() + n + 1))  # a new mtime even on coarse clocks
            seconds, tx, report = poll()
            assert report.updated == 1, report
            rows["one file edited"][0].append(seconds)
            rows["one file edited"][1].append(tx)
        ctx.close()
    print(f"{args.files} Markdown files in one folder source; first poll (stores all): {first * 1000:.0f} ms, "
          f"{first_tx} write transactions")  # fmt: skip
    print(
        f"| poll ({args.polls} each, taking turns) | ms per poll (min / median / max) | write transactions |"
    )
    print("|---|---|---|")
    for name, (seconds, txs) in rows.items():
        print(f"| {name} | {spread(seconds, 1000)} | {spread([float(t) for t in txs])} |")


if __name__ == "__main__":
    main()
