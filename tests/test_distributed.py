"""The distributed configuration with the real services: PostgreSQL, RabbitMQ, `syndicator worker` processes
owning different language pairs and translating for real (tiny Argos models, Apertium where installed), and
`syndicator run` schedulers. Faults are real too: kill -9 of a worker mid-task and of the scheduler."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from syndicator.cli import main
from syndicator.config import Config, load_config
from syndicator.models import DONE, CycleReport
from syndicator.pipeline import collect, open_context
from syndicator.pipeline.units import plan
from syndicator.store import Store
from tests.conftest import build_instance
from tests.support.distributed import Process, distributed_toml, stop_all, worker
from tests.support.postgres import PostgresServer
from tests.support.rabbitmq import RabbitMQNode
from tests.support.service import wait_for, write_article

APERTIUM = shutil.which("apertium") is not None and Path("/usr/share/apertium/modes/en-es.mode").exists()


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _config(root: Path) -> Config:
    return load_config(root / "config" / "syndicator.toml")


def _entries(root: Path, lang: str) -> list[str]:
    feed = feedparser.parse((root / "feeds" / lang / "atom.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return [e.id for e in feed.entries]


@pytest.fixture
def cluster(
    make_instance: Callable[..., Path],
    model_files: Callable[[str, str], Path],
    postgres: PostgresServer,
    rabbitmq: RabbitMQNode,
) -> Iterator[Callable[..., Path]]:
    """Build a distributed instance (store migrated, models installed); stops every process it started."""
    started: list[Process] = []

    def build(targets: tuple[str, ...] = ("fr", "ar"), engines: str = "", **run: str) -> Path:
        extra = distributed_toml(postgres, rabbitmq, **run)
        if engines:
            extra = f"\n[translation.engines]\n{engines}\n" + extra
        root = make_instance(targets=targets, extra=extra)
        assert _cli(root, "migrate") == 0
        models = [str(model_files("en", t)) for t in targets if t in ("fr", "ar", "ru")]
        assert _cli(root, "models", "install", *models) == 0
        return root

    build.started = started  # type: ignore[attr-defined]
    try:
        yield build
    finally:
        stop_all(started)


def _start(cluster: Callable[..., Path], process: Process) -> Process:
    cluster.started.append(process)  # type: ignore[attr-defined]
    return process


def _reference(model_files: Callable[[str, str], Path], tmp: Path) -> dict[str, tuple[str, str]]:
    """The same articles translated by the embedded path (SQLite, in-process): what the workers must store."""
    root = build_instance(tmp / "reference", targets=("fr",))
    assert _cli(root, "models", "install", str(model_files("en", "fr"))) == 0
    assert _cli(root, "run", "--once") == 0
    store = Store(_config(root).store.url)
    try:
        keys = {a.id: a.key for a in store.articles(range(1, 100))}
        return {keys[i]: (t.title, t.body_html) for i, t in store.translations_for(list(keys), "fr").items()}
    finally:
        store.close()


def _translated(root: Path, lang: str) -> dict[str, tuple[str, str]]:
    store = Store(_config(root).store.url)
    try:
        keys = {a.id: a.key for a in store.articles(range(1, 100))}
        rows = store.translations_for(list(keys), lang)
        assert all(t.status == DONE for t in rows.values()), {k: t.status for k, t in rows.items()}
        return {keys[i]: (t.title, t.body_html) for i, t in rows.items()}
    finally:
        store.close()


def test_run_once_through_two_workers_owning_different_pairs(
    cluster: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    targets = ("fr", "ar", "es") if APERTIUM else ("fr", "ar")
    root = cluster(targets=targets, engines='es = "apertium"' if APERTIUM else "")
    fr = _start(cluster, worker(root, ["en-fr"], publish=True))
    other = _start(cluster, worker(root, [f"en-{t}" for t in targets if t != "fr"]))
    assert _cli(root, "run", "--once") == 0
    out = capsys.readouterr().out
    for lang in targets:
        assert f"{lang}: 3 translated" in out
        assert len(set(_entries(root, lang))) == len(_entries(root, lang)) == 3
    # Each worker translated only its own pairs (its own queues), with its models loaded once.
    assert "en-fr: {'done': 3}" in fr.log() and "en-ar" not in fr.log()
    assert "en-ar: {'done': 3}" in other.log() and "en-fr:" not in other.log()
    ctx = open_context(_config(root))
    try:
        rows = ctx.store.counts()
        assert {lang: rows[lang] for lang in targets} == {lang: {DONE: 3} for lang in targets}
        assert not ctx.store.claims()  # every claim given back
        if APERTIUM:
            es = ctx.store.translations_for([1, 2, 3], "es")
            assert {t.engine for t in es.values()} == {"apertium"}
    finally:
        ctx.close()


def _send_pending(root: Path) -> list[str]:
    """Poll, then queue every pending unit the way a scheduler's pass does (claimed for its task, then sent);
    the task ids."""
    from syndicator.distributed.runner import CeleryRunner

    config = _config(root)
    runner = CeleryRunner(config)
    ctx = open_context(config)
    try:
        collect(ctx, CycleReport())
        return [result.id for _unit, result in runner.send(plan(ctx, unclaimed=True))]
    finally:
        ctx.close()
        runner.store.close()


def _all_done(root: Path, lang: str, n: int) -> Callable[[], bool]:
    def check() -> bool:
        store = Store(_config(root).store.url)
        try:
            return store.counts().get(lang, {}) == {DONE: n}
        finally:
            store.close()

    return check


def _published(root: Path, lang: str, n: int) -> Callable[[], bool]:
    path = root / "feeds" / lang / "atom.xml"
    return lambda: path.exists() and len(_entries(root, lang)) == n


@pytest.mark.parametrize("kill", ["pool-process", "whole-worker"])
def test_a_worker_killed_mid_task_loses_nothing_and_translates_once(
    cluster: Callable[..., Path], model_files: Callable[[str, str], Path], tmp_path: Path, kill: str
) -> None:
    """kill -9 of the process running a task: its pool process (the worker's parent gives the task back:
    reject_on_worker_lost), or the whole worker, machine-style (the broker redelivers the unacknowledged task
    to the replacement). The redelivered task, same id, takes back its claim at once and finishes; each
    (article, language) is stored once, as the embedded path translates it, and published once."""
    reference = _reference(model_files, tmp_path)
    root = cluster(targets=("fr",))
    hold = tmp_path / "hold"
    hold.touch()  # the task stops right after claiming its articles, until the kill has landed
    slow = _start(cluster, worker(root, ["en-fr"], publish=kill == "pool-process", hold=hold))
    (task,) = _send_pending(root)
    inside = Path(f"{hold}.inside")
    wait_for(inside.exists, "the worker to take its claim")
    if kill == "pool-process":
        assert int(inside.read_text()) in slow.children()  # the task runs in the pool process
        (child,) = slow.children()
        os.kill(child, signal.SIGKILL)
        hold.unlink()
        wait_for(lambda: f"under claim {task}" in slow.log(), "the task to be redelivered")
        assert "WorkerLostError" in slow.log()
        finisher = slow
    else:
        slow.kill9()
        hold.unlink()
        finisher = _start(cluster, worker(root, ["en-fr"], publish=True))
        wait_for(lambda: f"under claim {task}" in finisher.log(), "the task to be redelivered")
    wait_for(_all_done(root, "fr", 3), "every translation to be stored")
    wait_for(_published(root, "fr", 3), "the publish task to publish fr")
    assert _translated(root, "fr") == reference
    assert len(set(_entries(root, "fr"))) == 3
    assert "en-fr: {'done': 3}" in finisher.log()  # the finishing delivery translated all three, once
    store = Store(_config(root).store.url)
    try:
        assert not store.claims()
        # The debounced request is served and cleared: the publish task clears it after writing the feeds (and a
        # request made meanwhile is served by one more publish), so the feeds can be seen a moment before.
        wait_for(lambda: store.publish_wanted("fr") is None, "the publish request to be cleared")
    finally:
        store.close()


def test_two_workers_racing_on_one_article_store_it_once(cluster: Callable[..., Path]) -> None:
    """Two tasks naming the same articles, taken at once by two workers of the same pair: the database settles
    it (rows claimed FOR UPDATE SKIP LOCKED, one row per (article, language) by its key), not a lock in any
    process. However the claims split the articles, each is translated by one task and stored once."""
    from syndicator.distributed.app import TRANSLATE_TASK, make_app, queue_name

    root = cluster(targets=("fr",))
    ctx = open_context(_config(root))
    try:
        collect(ctx, CycleReport())
    finally:
        ctx.close()
    workers = [_start(cluster, worker(root, ["en-fr"], slow=1.0)) for _ in range(2)]
    for w in workers:
        wait_for(lambda w=w: " ready." in w.log(), "both workers to consume")
    # Two tasks for the same rows, unclaimed, as two schedulers would send them; with prefetch 1 each worker
    # takes one, and both claim at once.
    app = make_app(_config(root))
    for _ in range(2):
        app.send_task(TRANSLATE_TASK, args=["en", "fr", [1, 2, 3]], queue=queue_name("en-fr"))
    wait_for(lambda: sum(w.log().count("succeeded") for w in workers) == 2, "both tasks to finish")
    logs = "".join(w.log() for w in workers)
    done = [int(n) for n in re.findall(r"en-fr: \{'done': (\d+)\}", logs)]
    assert sum(done) == 3, logs[-3000:]  # each article translated by exactly one of the two tasks
    assert all(w.log().count("succeeded") == 1 for w in workers)  # and the two workers really raced
    store = Store(_config(root).store.url)
    try:
        rows = store.translations_for([1, 2, 3], "fr")
        assert len(rows) == 3 and {t.status for t in rows.values()} == {DONE}
        assert store.counts()["fr"] == {DONE: 3}
        assert not store.claims()
    finally:
        store.close()


def test_the_standby_scheduler_takes_over_and_no_slot_is_polled_twice(cluster: Callable[..., Path]) -> None:
    """Two `syndicator run` on one PostgreSQL store: only the holder of the scheduler lock polls. kill -9 of the
    holder: the standby takes over (its session lock was freed with the dead session) and carries on the
    rhythm; the poll history in the store shows each slot polled once, by one of them."""
    every = timedelta(seconds=10)
    root = cluster(targets=("fr",), failover="3s", task_wait="2s")
    text = (root / "config" / "syndicator.toml").read_text(encoding="utf-8")
    text = text.replace('every = "5m"', 'every = "10s"').replace("[serve]\n", "[serve]\nenabled = false\n")
    (root / "config" / "syndicator.toml").write_text(text, encoding="utf-8")
    config = _config(root)
    (jitter,) = [s.jitter for s in config.sources]
    assert jitter is not None

    def history() -> list[tuple[str, datetime, str]]:
        store = Store(config.store.url)
        try:
            return store.poll_history("newsroom")
        finally:
            store.close()

    first = _start(cluster, Process(root, "run", name="run-1"))
    wait_for(lambda: "now polls and schedules" in first.log(), "the first scheduler to lead")
    second = _start(cluster, Process(root, "run", name="run-2"))
    wait_for(lambda: "standby" in second.log(), "the second to wait as a standby")
    one, two = (f"{socket.gethostname()}:{p.pid}" for p in (first, second))
    wait_for(lambda: len(history()) >= 2, "two polls by the first scheduler")
    first.kill9()
    wait_for(lambda: "now polls and schedules" in second.log(), "the standby to take over")
    write_article(root / "articles", "after-takeover", "News after the takeover", "It still arrives.")
    wait_for(lambda: sum(p == two for *_, p in history()) >= 2, "two polls by the new scheduler")
    polls = history()
    pollers = [p for *_, p in polls]
    assert set(pollers) == {one, two} and pollers == sorted(pollers, key=lambda p: p == two), pollers
    starts = [t for _, t, _ in polls]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Polls are `every` apart give or take the jitter (and a second of timer slack): never two in one slot.
    assert min(gaps) >= every - jitter - timedelta(seconds=1), gaps
    ctx = open_context(config)
    try:
        assert any(a.key == "after-takeover" for a in ctx.store.articles(range(1, 100)))
    finally:
        ctx.close()
