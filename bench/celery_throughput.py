"""Translation through Celery: articles × languages per minute with 1 and 2 single-threaded worker processes,
against the in-process runner, and the queue's overhead per task.

Real services, started here: PostgreSQL (the store) and RabbitMQ (the broker), in temp dirs, as the tests do
(tests/support/postgres.py, tests/support/rabbitmq.py). Real workers: `syndicator worker` processes with
translation.threads = 1, each consuming every pair's queue, models loaded before the clock starts.

Throughput: ARTICLES generated news articles (bench/newsgen.py) into LANGUAGES targets, planned into units
as a pass plans them (50 articles per unit); timed from the first task sent until every result is back.
The in-process row runs the same units one after another in this process (one thread, models loaded first).

Overhead: TASKS one-article units with the `pseudo` engine (microseconds of work per article), through
one Celery worker and in-process; the difference per unit is what queueing, delivery, claiming and the result
cost per task.

    .venv/bin/python bench/celery_throughput.py            # base-sized models, 200 articles × 4 languages
    .venv/bin/python bench/celery_throughput.py --quick    # tiny models, 4 articles × 2 (tests/test_bench.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import newsgen  # noqa: E402
from translate_throughput import BASE, TINY, build_models  # noqa: E402

from syndicator.cli import main as cli  # noqa: E402
from syndicator.config import Config, load_config  # noqa: E402
from syndicator.models import CycleReport  # noqa: E402
from syndicator.pipeline import collect, execute_unit, open_context  # noqa: E402
from syndicator.pipeline.units import plan  # noqa: E402
from syndicator.runner import InProcessRunner, Unit  # noqa: E402
from tests.support.distributed import stop_all, worker  # noqa: E402
from tests.support.postgres import PostgresServer, find_bindir  # noqa: E402
from tests.support.rabbitmq import RabbitMQNode, find_rabbitmq  # noqa: E402
from tests.support.service import wait_for  # noqa: E402

TARGETS = ("fr", "es", "de", "ru", "ar")


def write_instance(root: Path, targets: tuple[str, ...], engine: str, store: str, broker: str) -> Config:
    """An instance folder with the repository's catalogs, its models dir and an empty articles folder."""
    (root / "config").mkdir(parents=True)
    (root / "articles").mkdir()
    (root / "models").mkdir(exist_ok=True)
    shutil.copytree(REPO / "locales", root / "locales")
    langs = ", ".join(f'"{t}"' for t in targets)
    (root / "config" / "syndicator.toml").write_text(
        f'[site]\nlink = "https://news.example.org/"\n\n[languages]\nsource = "en"\ntargets = [{langs}]\n\n'
        f'[translation]\nengine = "{engine}"\nthreads = 1\n\n[store]\nurl = "{store}"\n\n'
        f'[run]\nrunner = "celery"\nbroker = "{broker}"\npublish_delay = "1h"\n\n[serve]\nenabled = false\n\n'
        '[[source]]\nname = "wire"\nkind = "folder"\npath = "articles"\n',
        encoding="utf-8",
    )
    return load_config(root / "config" / "syndicator.toml")


def write_articles(folder: Path, count: int, sentences_each: int = 10) -> None:
    pool = newsgen.sentences(count * sentences_each)
    for i, item in enumerate(newsgen.articles(pool, per_article=sentences_each)):
        body = "\n\n".join(" ".join(p) for p in item.paragraphs)
        (folder / f"a{i:05d}.md").write_text(
            f"---\ntitle: {item.title}\ndate: 2026-03-01T08:00:00Z\nid: a{i:05d}\n---\n{item.summary}\n\n{body}\n",
            encoding="utf-8",
        )


def prepared(config: Config) -> list[Unit]:
    """Migrate the empty store, poll the articles in; the units a pass would plan."""
    assert cli(["-q", "--config", str(config.file), "migrate"]) == 0
    ctx = open_context(config)
    try:
        collect(ctx, CycleReport())
        return plan(ctx, unclaimed=True)
    finally:
        ctx.close()


def time_in_process(config: Config, units: list[Unit]) -> float:
    ctx = open_context(config)
    try:
        for target in config.languages.targets:  # load the models first, as the workers do
            pair = ctx.engine_for(target).pair(config.languages.source, target)
            if pair is not None:
                pair.translate_batch(["Ready."])
        runner = InProcessRunner(lambda unit: execute_unit(ctx, unit))
        start = time.perf_counter()
        results = list(runner.run(units))
        elapsed = time.perf_counter() - start
    finally:
        ctx.close()
    assert sum(r.articles for r in results) == sum(len(u.article_ids) for u in units)
    return elapsed


def time_celery(config: Config, units: list[Unit], workers: int) -> float:
    from syndicator.distributed.runner import CeleryRunner

    pairs = [f"{config.languages.source}-{t}" for t in config.languages.targets]
    started = [worker(config.root, pairs) for _ in range(workers)]
    try:
        for w in started:
            wait_for(
                lambda w=w: "models loaded" in w.log() and " ready." in w.log(), "a worker to be ready", 600
            )
        runner = CeleryRunner(config)
        start = time.perf_counter()
        results = list(runner.run(units))
        elapsed = time.perf_counter() - start
        runner.store.close()
    finally:
        stop_all(started)
    queued = sum(r.counts.get("queued", 0) for r in results)
    assert not queued, f"{queued} article(s) not finished within run.task_wait"
    assert sum(r.articles for r in results) == sum(len(u.article_ids) for u in units)
    return elapsed


def run(args: argparse.Namespace) -> dict[str, Any]:
    size = TINY if args.quick else BASE
    targets = TARGETS[: args.languages]
    models = build_models(args.cache, size, targets)
    pg_bin, mq_bin = find_bindir(), find_rabbitmq()
    if pg_bin is None or mq_bin is None:
        raise SystemExit("needs PostgreSQL and RabbitMQ installed (Debian: postgresql, rabbitmq-server)")
    work = Path(tempfile.mkdtemp(prefix="syndicator-celery-bench-"))
    pg, mq = PostgresServer(pg_bin), RabbitMQNode(mq_bin)
    out: dict[str, Any] = {
        "vm": {"cpus": os.cpu_count(), "load": os.getloadavg()[0], "python": platform.python_version()},
        "model": "tiny" if args.quick else f"base {BASE}",
        "articles": args.articles,
        "languages": list(targets),
    }
    try:
        rows = {}
        for name, workers in (("in-process", 0), ("celery, 1 worker", 1), ("celery, 2 workers", 2)):
            root = work / name.replace(" ", "").replace(",", "-")
            config = write_instance(root, targets, "argos", pg.database(), mq.vhost())
            for pkg in models.values():
                os.symlink(pkg, root / "models" / pkg.name)
            write_articles(root / "articles", args.articles)
            units = prepared(config)
            print(f"{name}: {len(units)} unit(s) ...", flush=True)
            elapsed = time_in_process(config, units) if not workers else time_celery(config, units, workers)
            done = sum(len(u.article_ids) for u in units)
            rows[name] = {"units": len(units), "translations": done, "seconds": elapsed,
                          "per_minute": done / elapsed * 60}  # fmt: skip
        out["throughput"] = rows
        out["speedup_2_over_1"] = (
            rows["celery, 2 workers"]["per_minute"] / rows["celery, 1 worker"]["per_minute"]
        )

        # Overhead per task: one-article units of the pseudo engine.
        overhead = {}
        for name, workers in (("in-process", 0), ("celery", 1)):
            root = work / f"overhead-{name}"
            config = write_instance(root, ("fr",), "pseudo", pg.database(), mq.vhost())
            write_articles(root / "articles", args.tasks, sentences_each=3)
            units = [Unit(u.source, u.target, (i,)) for u in prepared(config) for i in u.article_ids]
            overhead[name] = time_in_process(config, units) if not workers else time_celery(config, units, 1)
        per_task_ms = (overhead["celery"] - overhead["in-process"]) / args.tasks * 1000
        out["overhead"] = {"tasks": args.tasks, "seconds": overhead, "per_task_ms": per_task_ms}
    finally:
        mq.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def report(result: dict[str, Any]) -> None:
    vm = result["vm"]
    print(f"vm: {vm['cpus']} CPUs, load average {vm['load']:.1f}; model {result['model']}")
    print(
        f"{result['articles']} articles × {len(result['languages'])} languages ({', '.join(result['languages'])})"
    )
    print(f"{'runner':<20} {'units':>5} {'translations':>12} {'seconds':>8} {'per minute':>10}")
    for name, row in result["throughput"].items():
        print(
            f"{name:<20} {row['units']:>5} {row['translations']:>12} {row['seconds']:>8.2f} {row['per_minute']:>10.1f}"
        )
    print(f"2 workers / 1 worker: {result['speedup_2_over_1']:.2f}× (target ≥ 1.8×)")
    o = result["overhead"]
    print(
        f"queue overhead: {o['per_task_ms']:.1f} ms per task ({o['tasks']} one-article tasks: celery "
        f"{o['seconds']['celery']:.2f}s, in-process {o['seconds']['in-process']:.2f}s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200, help="articles to translate (default 200)")
    parser.add_argument("--languages", type=int, default=4, choices=range(1, 6), help="targets (default 4)")
    parser.add_argument(
        "--tasks", type=int, default=200, help="one-article tasks for the overhead (default 200)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny models, 4 articles × 2 languages, 10 tasks"
    )
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "syndicator-bench")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.languages, args.tasks = 4, 2, 10
    result = run(args)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
