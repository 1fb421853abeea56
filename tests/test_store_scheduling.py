"""What several schedulers and workers rely on in the store, on SQLite and a real PostgreSQL: process locks, the
guarded poll start with its history, and debounced publish requests. Plus the seams around them: runner
selection, the embedded path without Celery, worker pairs."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.errors import ConfigError
from syndicator.leadership import Leadership
from syndicator.runner import InProcessRunner, ThreadPoolRunner, make_runner
from syndicator.store import Store, connect
from syndicator.store.migrate import upgrade
from tests.support.postgres import PostgresServer
from tests.support.service import REPO, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_named_lock_has_one_holder_until_released(store_url: str) -> None:
    a, b = Store(store_url), Store(store_url)  # two processes' worth of connections
    try:
        held = a.try_lock("scheduler", keepalive=timedelta(seconds=9))
        assert held is not None and held.alive()
        assert b.try_lock("scheduler") is None
        other = b.try_lock("publish")  # another name is another lock
        assert other is not None
        other.release()
        held.release()
        again = b.try_lock("scheduler")
        assert again is not None
        again.release()
    finally:
        a.close()
        b.close()


def test_a_lost_lock_connection_reads_as_lost(postgres: PostgresServer) -> None:
    """On PostgreSQL the lock is the session's: when the server ends that session (a restart, a network cut
    seen by the server), the holder learns it at its next check and another process can take the lock."""
    url = postgres.database()
    engine = connect(url)
    upgrade(engine)
    engine.dispose()
    a, b = Store(url), Store(url)
    try:
        held = a.try_lock("scheduler")
        assert held is not None
        with postgres.connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            )
        wait_for(lambda: not held.alive(), "the holder to see its lock gone")
        taken = b.try_lock("scheduler")
        assert taken is not None
        taken.release()
    finally:
        a.close()
        b.close()


def test_leadership_steps_down_and_a_standby_takes_over(store_url: str) -> None:
    events: list[str] = []
    stores = [Store(store_url), Store(store_url)]
    stops = [threading.Event(), threading.Event()]
    terms = [
        Leadership(s, timedelta(seconds=3), lead=lambda i=i: events.append(f"lead {i}"),
                   follow=lambda i=i: events.append(f"follow {i}"), stopping=stop)
        for i, (s, stop) in enumerate(zip(stores, stops, strict=True))
    ]  # fmt: skip
    try:
        terms[0].start()
        assert terms[0].leading and events == ["lead 0"]
        terms[1].start()
        assert not terms[1].leading
        terms[0].release()  # the holder goes
        wait_for(lambda: terms[1].leading, "the standby to take over")
        assert events == ["lead 0", "lead 1"]
    finally:
        for t in terms:
            t.release()
        for s in stores:
            s.close()


def test_a_slot_is_polled_once_and_recorded(store_url: str) -> None:
    clock = Clock()
    a, b = Store(store_url, clock=clock), Store(store_url, clock=clock)
    try:
        gap = timedelta(seconds=50)
        assert a.start_poll("wire", gap, "host:1")
        assert not b.start_poll("wire", gap, "host:2")  # the same slot, asked by a second scheduler
        assert b.start_poll("other", gap, "host:2")  # sources are independent
        clock.now += timedelta(seconds=55)
        assert b.start_poll("wire", gap, "host:2")
        assert [(s, p) for s, _, p in a.poll_history("wire")] == [("wire", "host:1"), ("wire", "host:2")]
        assert a.source_states()["wire"]["poll_started"] == clock.now
        assert a.start_poll("wire", timedelta(0), "host:1")  # gap 0: never refused (embedded)
    finally:
        a.close()
        b.close()


def test_a_burst_of_publish_requests_sends_one_task(store_url: str) -> None:
    clock = Clock()
    store = Store(store_url, clock=clock)
    try:
        stale = timedelta(minutes=5)
        assert store.want_publish("fr", stale)  # the first request of a burst sends the task
        assert not any(store.want_publish("fr", stale) for _ in range(5))
        assert store.want_publish("ar", stale)  # per language
        token = store.publish_wanted("fr")
        assert token is not None
        store.want_publish("fr", stale)  # a translation stored while the publish runs
        assert not store.publish_done("fr", token)  # it stays: it needs a publish of its own
        token = store.publish_wanted("fr")
        assert token is not None and store.publish_done("fr", token)
        assert store.publish_wanted("fr") is None
        store.want_publish("ru", stale)
        clock.now += timedelta(minutes=6)  # its task was lost (a broker emptied): the next request resends
        assert store.want_publish("ru", stale)
    finally:
        store.close()


def test_runner_selection(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    config = load_config(root / "config" / "syndicator.toml")
    assert isinstance(make_runner(config, lambda u: None, 1), InProcessRunner)  # type: ignore[arg-type,return-value]
    pool = make_runner(config, lambda u: None, 3)  # type: ignore[arg-type,return-value]
    assert isinstance(pool, ThreadPoolRunner)
    pool.shutdown()
    celery = load_config(
        root / "config" / "syndicator.toml", overrides={"run.runner": "celery", "run.broker": "memory://"}
    )
    if "syndicator.distributed" not in sys.modules:
        with pytest.raises(ConfigError, match="not available"):
            make_runner(celery, lambda u: None)  # type: ignore[arg-type,return-value]


def test_the_embedded_path_never_imports_celery(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    code = (
        "import sys; from syndicator.cli import main; "
        f"code = main(['-q', '--config', {str(root / 'config' / 'syndicator.toml')!r}, 'run', '--once']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'kombu', 'amqp'))); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ("en", "not a language pair"),
        ("en-de", "'de' is not a configured language"),
        ("en-fr,", "not a language"),
    ],
)
def test_worker_pairs_are_checked(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str], pairs: str, message: str
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    config = str(root / "config" / "syndicator.toml")
    args = ["--config", config, "--set", "run.runner=celery", "--set", "run.broker=amqp://127.0.0.1:1//"]
    assert main([*args, "worker", "--pairs", pairs]) == 2
    assert message in capsys.readouterr().err
    assert main(["--config", config, "worker"]) == 2  # not a distributed instance
    assert "run.runner = celery" in capsys.readouterr().err


def test_a_holder_that_loses_its_connection_steps_down(postgres: PostgresServer) -> None:
    """A lost lock connection means stepping down: the holder stops scheduling (follow) and a standby leads."""
    url = postgres.database()
    engine = connect(url)
    upgrade(engine)
    engine.dispose()
    events: list[str] = []
    stores = [Store(url), Store(url)]
    stops = [threading.Event(), threading.Event()]
    terms = [
        Leadership(s, timedelta(seconds=3), lead=lambda i=i: events.append(f"lead {i}"),
                   follow=lambda i=i: events.append(f"follow {i}"), stopping=stop)
        for i, (s, stop) in enumerate(zip(stores, stops, strict=True))
    ]  # fmt: skip
    try:
        terms[0].start()
        terms[1].start()
        assert events == ["lead 0"]
        with (
            postgres.connect() as admin
        ):  # the server ends the holder's lock session (a network cut, a restart)
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            )
        wait_for(
            lambda: "follow 0" in events and "lead 1" in events,
            "the holder to step down, the standby to lead",
        )
        assert not terms[0].leading and terms[1].leading
    finally:
        for t in terms:
            t.release()
        for s in stores:
            s.close()
