"""Publishing benchmark: one new article in a big store vs a small one, and a full rebuild.

    .venv/bin/python bench/publish_bench.py [--big 10000] [--small 100] [--rounds 5] [--tmp /dev/shm]

Builds two instances with the real Store (SQLite) and the real publish stage writing to a real folder:
`--big` and `--small` articles, each in 10 languages (the English original and 9 translations stored as
done, so no engine runs). Each is first published in full into an empty folder: that is the full
rebuild time. Then, round after round and side by side, one new article (with its 9 translations) is
added to each and published; the median times are compared: the incremental publish should cost about
the same whatever the store holds (target: within 2x).

`--tmp` chooses where the instances live; on a shared machine a tmpfs (/dev/shm) keeps other people's
disk traffic (every published file is fsync'ed twice) out of the comparison.

Timings are wall-clock on a shared machine: compare the ratio printed, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from syndicator.config import load_config  # noqa: E402
from syndicator.models import DONE, ArticleInput, CycleReport, Translation  # noqa: E402
from syndicator.pipeline import Context, content_hash, open_context, publish  # noqa: E402

TARGETS = ("fr", "es", "ar", "zh", "ru", "de", "ja", "pt", "it")
T0 = datetime(2020, 1, 1, tzinfo=UTC)
CONFIG = """\
[site]
title = "Newsroom"
link = "https://news.example.org/"
feeds_url = "https://news.example.org/feeds/"

[languages]
source = "en"
targets = [{targets}]

[translation]
engine = "pseudo"

[publish]
max_entries = 50
locales_dir = "{locales}"

[[source]]
name = "newsroom"
kind = "folder"
path = "articles"
"""
BODY = (
    "<p>The harbour bridge reopened on Sunday after six weeks of repairs. Buses return to their routes.</p>"
    * 4
)


class Clock:
    """Advances one second per call, so every change has its own moment."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_instance(root: Path) -> Context:
    """An instance folder with its config; return its open context."""
    (root / "config").mkdir(parents=True)
    (root / "articles").mkdir()
    targets = ", ".join(f'"{t}"' for t in TARGETS)
    (root / "config" / "syndicator.toml").write_text(
        CONFIG.format(targets=targets, locales=REPO / "locales"), encoding="utf-8"
    )
    return open_context(load_config(root / "config" / "syndicator.toml"), clock=Clock())


def add_article(ctx: Context, n: int) -> None:
    """Store article n (published n minutes after T0) and its 9 translations, marked done."""
    item = ArticleInput(
        source="newsroom",
        key=f"article-{n:06d}",
        language="en",
        title=f"Article {n}: the harbour bridge reopens",
        body_html=BODY,
        published=T0 + timedelta(minutes=n),
        summary="The bridge reopened.",
        tags=("transport",),
    )
    article_id, _ = ctx.store.upsert_article(item, content_hash(item))
    ctx.store.ensure_pending(ctx.store.article(article_id), TARGETS)
    for lang in TARGETS:
        ctx.store.save_translation(
            Translation(
                article_id,
                lang,
                DONE,
                f"[{lang}] {item.title}",
                f"[{lang}] {item.summary}",
                f"<div>[{lang}] {BODY}</div>",
                engine="pseudo",
                updated=ctx.clock(),
            )
        )


def timed_publish(ctx: Context, *, rebuild: bool = False) -> tuple[float, int]:
    """Seconds to publish, and files written."""
    report = CycleReport()
    start = time.perf_counter()
    publish(ctx, report, rebuild=rebuild)
    return time.perf_counter() - start, len(report.written)


def main() -> None:
    """Run the benchmark and print a results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--tmp", default=None, help="folder for the temporary instances (default: system temp)"
    )
    args = parser.parse_args()

    full: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="publish-bench-", dir=args.tmp) as tmp:
        contexts = {}
        for label, count in (("small", args.small), ("big", args.big)):
            ctx = make_instance(Path(tmp) / label)
            start = time.perf_counter()
            for n in range(count):
                add_article(ctx, n)
            built = time.perf_counter() - start
            first, files = timed_publish(ctx)
            full[label] = (first, files)
            print(f"{label}: {count} articles x {1 + len(TARGETS)} languages stored in {built:.1f} s; "
                  f"first (full) publish {first:.2f} s, {files} files")  # fmt: skip
            contexts[label] = (ctx, count)

        times: dict[str, list[float]] = {"small": [], "big": []}
        written: dict[str, list[int]] = {"small": [], "big": []}
        for r in range(args.rounds):
            for label in ("small", "big"):  # side by side, so machine load hits both alike
                ctx, count = contexts[label]
                add_article(ctx, count + r)
                seconds, files = timed_publish(ctx)
                times[label].append(seconds)
                written[label].append(files)

        for ctx, _ in contexts.values():
            ctx.close()

    small, big = statistics.median(times["small"]), statistics.median(times["big"])
    print()
    print(f"| measurement | {args.small} articles | {args.big} articles |")
    print("| --- | --- | --- |")
    print(
        f"| one new article, publish (median of {args.rounds}) | {small * 1000:.0f} ms | {big * 1000:.0f} ms |"
    )
    print(f"| files written per new article (median) | {statistics.median(written['small']):.0f} | "
          f"{statistics.median(written['big']):.0f} |")  # fmt: skip
    print(f"| full rebuild into an empty folder | {full['small'][0]:.1f} s ({full['small'][1]} files) | "
          f"{full['big'][0]:.1f} s ({full['big'][1]} files) |")  # fmt: skip
    print()
    print(f"ratio big/small for one new article: {big / small:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
