"""Drop-to-feed latency: a Markdown file copied into the drop folder until it is in the English feed and in the
Spanish one (Apertium), with the service idle and during a translation backlog.

`syndicator run` runs as a subprocess on a temp instance (targets: es through Apertium; the drop folder polled
once an hour, so only the folder watcher can explain a pickup). Each drop is a newly generated article copied
into the folder (a copy, so the watcher's settle time is part of it); the next drop follows once the previous
one is in both feeds. Phase "idle": nothing else to do. Phase "backlog": BACKLOG articles are dropped first and
the measured drops start while they are being translated. Latency = first sight of the entry in
feeds/<lang>/atom.xml minus the moment the copy finished.
Also: the backlog's translation rate (articles/s) and the service's CPU time per phase (from /proc).

Run: .venv/bin/python bench/drop_latency.py [--drops 20] [--backlog 3000] [--json FILE]
     .venv/bin/python bench/drop_latency.py --quick    # 3 drops, a backlog of 10: proves the script works
Needs the Debian packages apertium and apertium-eng-spa (exits 77 without them). The machine is shared and has
2 cores: absolute numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import newsgen
from syndicator.store import Store
from tests.conftest import REPO, write_config

DROPS = 20
BACKLOG = 3000  # Apertium translates 500 before 20 drops are through: the backlog must outlast them
HANG_GUARD = 900.0  # seconds one drop may take before the run gives up on it (a hang, not a measurement)
LOOK = 0.02  # seconds between looks at the feeds
LANGS = ("en", "es")


@dataclass
class Phase:
    """One phase's measurements."""

    name: str
    backlog: int
    latency: dict[str, list[float]] = field(default_factory=lambda: {lang: [] for lang in LANGS})
    pending_when_stored: int = 0  # translations pending once the backlog was stored
    warm_up: float = 0.0  # seconds the unmeasured first drop took (to both feeds)
    pending_at_first_drop: int = 0
    pending_at_end: int = 0
    translated: int = 0  # translations finished during the measured drops (the backlog's and the drops')
    wall: float = 0.0  # seconds from the first drop to the last one seen
    cpu: float = 0.0  # the service's CPU seconds over the same span, Apertium's subprocesses included
    timeouts: int = 0


def _apertium_has(mode: str) -> bool:
    if shutil.which("apertium") is None:
        return False
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=30, check=False)
    return mode in listed.stdout.split()


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its waited-for children (Apertium's pipelines), from Linux /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _article(key: str, item: newsgen.NewsItem, when: datetime) -> str:
    body = "\n\n".join(" ".join(p) for p in item.paragraphs)
    return (
        f"---\ntitle: {item.title}\ndate: {when.isoformat(timespec='seconds')}\nid: {key}\n"
        f"summary: {item.summary}\n---\n{body}\n"
    )


class Feeds:
    """Looks at a language's atom.xml only when it changed, and says whether an entry is in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: dict[str, tuple[int, bytes]] = {}

    def has(self, lang: str, key: str) -> bool:
        path = self.root / "feeds" / lang / "atom.xml"
        try:
            mtime = path.stat().st_mtime_ns
            if self.seen.get(lang, (None, b""))[0] != mtime:
                self.seen[lang] = (mtime, path.read_bytes())
        except OSError:
            return False
        return f"newsroom/{key}.html".encode() in self.seen[lang][1]


def _wait(what: str, predicate: object, timeout: float = HANG_GUARD) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.1)


def run_phase(base: Path, name: str, backlog: int, drops: int, items: list[newsgen.NewsItem]) -> Phase:
    """Start a service on a fresh instance, optionally drop a backlog, then time `drops` drops."""
    root = base / name
    folder = root / "articles"
    folder.mkdir(parents=True)
    (root / "models").mkdir()
    shutil.copytree(REPO / "locales", root / "locales")
    write_config(root, targets=("es",), engine="apertium")
    config = root / "config" / "syndicator.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('every = "5m"', 'every = "1h"'), "utf-8")
    staging = root / "staging"
    staging.mkdir()
    log_path = root / "service.log"
    phase = Phase(name, backlog)
    old = datetime(2026, 1, 1, tzinfo=UTC)
    # The backlog is in the folder before the service starts: its first poll stores it all at once and the
    # translation pass over it is under way when the drops come. (Dropped into a running service, 3,000 files
    # are picked up a few at a time as they settle, and Apertium keeps pace: no translation backlog forms.)
    for n in range(backlog):
        (folder / f"backlog-{n}.md").write_text(
            _article(f"backlog-{n}", items[n], old + timedelta(minutes=n)), "utf-8"
        )
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "--config", str(config), "run"],
            cwd=root, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        store: Store | None = None
        try:
            _wait("the watcher", lambda: "watching" in log_path.read_text(errors="replace"), 300)
            db = root / "data" / "syndicator.db"
            _wait("the store", db.exists, 300)
            store = Store(f"sqlite:///{db}")
            if backlog:
                _wait("the backlog stored", lambda: store.article_count() >= backlog, 300)  # type: ignore[union-attr]
                phase.pending_when_stored = len(store.pending())
            else:
                _wait("the first publish", lambda: (root / "feeds" / "en" / "atom.xml").exists(), 120)
            feeds = Feeds(root)
            # One drop not measured: the first Apertium call loads its files from a cold page cache.
            for n in range(-1, drops):
                key = f"drop-{n + 1}"
                staged = staging / f"{key}.md"
                staged.write_text(_article(key, items[backlog + n + 1], datetime.now(UTC)), "utf-8")
                if n == -1:
                    warm_up = time.monotonic()
                if n == 0:
                    phase.warm_up = time.monotonic() - warm_up
                    phase.pending_at_first_drop = len(store.pending())
                    done_before = sum(c.get("done", 0) for c in store.counts().values())
                    cpu0, wall0 = _cpu_seconds(proc.pid), time.monotonic()
                shutil.copy(staged, folder / staged.name)
                dropped = time.monotonic()
                left = set(LANGS)
                while left and time.monotonic() - dropped < HANG_GUARD:
                    for lang in sorted(left):
                        if feeds.has(lang, key):
                            left.discard(lang)
                            if n >= 0:
                                phase.latency[lang].append(time.monotonic() - dropped)
                    time.sleep(LOOK)
                if left:
                    phase.timeouts += 1
            phase.wall = time.monotonic() - wall0
            phase.cpu = _cpu_seconds(proc.pid) - cpu0
            phase.pending_at_end = len(store.pending())
            phase.translated = sum(c.get("done", 0) for c in store.counts().values()) - done_before
        finally:
            if store is not None:
                store.close()
            proc.terminate()
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return phase


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _row(phase: Phase, lang: str) -> str:
    s = phase.latency[lang]
    if not s:
        return f"| {phase.name} | {lang} | - | - | - | 0 |"
    return f"| {phase.name} | {lang} | {statistics.median(s):.2f} | {_p95(s):.2f} | {max(s):.2f} | {len(s)} |"


def main() -> None:
    """Measure both phases and print the table (and --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=DROPS)
    parser.add_argument("--backlog", type=int, default=BACKLOG)
    parser.add_argument("--json", type=Path, help="write every number here")
    parser.add_argument("--quick", action="store_true", help="3 drops, a backlog of 10")
    parser.add_argument("--phases", default="idle,backlog", help="which phases to run (idle, backlog)")
    parser.add_argument("--keep", type=Path, help="keep the instances (and service.log) in this new folder")
    args = parser.parse_args()
    if args.quick:
        args.drops, args.backlog = 3, 10
    if not _apertium_has("eng-spa"):
        print("skipped: needs apertium with the eng-spa pair (Debian packages apertium, apertium-eng-spa)")
        sys.exit(77)  # skipped (the automake convention; tests/test_bench.py reads it)
    items = newsgen.articles(newsgen.sentences((args.backlog + args.drops + 1) * 10, seed=14), per_article=10)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        wanted = args.phases.split(",")
        phases = [run_phase(base, name, args.backlog if name == "backlog" else 0, args.drops, items)
                  for name in ("idle", "backlog") if name in wanted]  # fmt: skip
    print(f"{args.drops} drops per phase, one at a time; es by Apertium; seconds from the copy to the feed")
    print("| phase | feed | median s | p95 s | max s | drops |")
    print("|---|---|---|---|---|---|")
    for phase in phases:
        for lang in LANGS:
            print(_row(phase, lang))
    for phase in phases:
        rate = phase.translated / phase.wall if phase.wall else 0.0
        print(
            f"{phase.name}: backlog {phase.backlog}, pending once stored {phase.pending_when_stored}, the unmeasured "
            f"first drop took {phase.warm_up:.1f} s, pending at the first measured drop {phase.pending_at_first_drop}, "
            f"at the end {phase.pending_at_end}; {phase.translated} translated in {phase.wall:.1f} s "
            f"({rate:.2f} articles/s); service CPU {phase.cpu:.1f} s ({phase.cpu / max(phase.wall, 1e-9):.2f} "
            f"cores); {phase.timeouts} drop(s) not seen within {HANG_GUARD:.0f} s"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(p) for p in phases], indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
