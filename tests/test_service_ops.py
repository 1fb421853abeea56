"""The service in process: polling keeps its schedule during a long translation; reloads apply or reject."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from syndicator.config import RELOAD_ERROR_FILE, Config, load_config
from syndicator.models import DONE, PENDING
from syndicator.pipeline import RELOAD_HOOKS, Context, open_context
from syndicator.runner import Abandoned, InProcessRunner, ThreadPoolRunner, Unit, UnitResult
from syndicator.scheduler import source_job_id
from syndicator.service import Service
from syndicator.translate.pseudo import PseudoEngine, PseudoPair
from tests.support.edits import edit_file, replaced
from tests.support.service import wait_for, write_article


class GatedPair(PseudoPair):
    """A pseudo pair that blocks inside translate_batch until the test opens the gate: a long backlog."""

    def __init__(self, source: str, target: str, entered: threading.Event, gate: threading.Event) -> None:
        super().__init__(source, target)
        self.entered, self.gate = entered, gate

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        self.entered.set()
        assert self.gate.wait(120), "gate never opened"
        return super().translate_batch(sentences)


class GatedEngine(PseudoEngine):
    def __init__(self) -> None:
        super().__init__()
        self.entered, self.gate = threading.Event(), threading.Event()

    def pair(self, source: str, target: str) -> PseudoPair | None:
        return self.pairs.setdefault((source, target), GatedPair(source, target, self.entered, self.gate))


def _fast_sources(config: Config, every: float = 1.0) -> Config:
    # The loader insists on >= 10 s between polls; the test wants many polls, so it builds the config itself.
    sources = tuple(
        dataclasses.replace(s, every=timedelta(seconds=every), jitter=timedelta(0)) for s in config.sources
    )
    return dataclasses.replace(config, sources=sources)


def _stored_keys(ctx: Context) -> set[str]:
    return {a.key for a in ctx.store.articles()}


@contextmanager
def gated_service(
    config: Config, engine: GatedEngine, before: Callable[[Context], object] = lambda ctx: None
) -> Iterator[Context]:
    """The service running on `config` with `engine` as its pseudo engine (`before` runs first); stopped and
    closed after, the gate opened."""
    ctx = open_context(config)
    before(ctx)
    ctx.engines["pseudo"] = engine
    service = Service(ctx, watch=False)
    service.start()
    try:
        yield ctx
    finally:
        engine.gate.set()
        assert service.stop()
        ctx.close()


def test_long_translation_never_starves_polling(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr", "de"))
    config = _fast_sources(load_config(root / "config" / "syndicator.toml"))
    config = dataclasses.replace(config, translation=dataclasses.replace(config.translation, workers=2))
    engine = GatedEngine()
    with gated_service(config, engine) as ctx:
        wait_for(engine.entered.is_set, "translation to start")
        # Every translation worker is stuck in the engine now. New articles must still be polled and stored.
        polls_before = ctx.store.source_states()["newsroom"]["last_poll"]
        write_article(root / "articles", "late-news", "Late news", "It arrived during the backlog.")
        wait_for(lambda: "late-news" in _stored_keys(ctx), "the new article to be stored while translating")
        assert ctx.store.source_states()["newsroom"]["last_poll"] > polls_before
        assert not engine.gate.is_set() and ctx.store.pending()  # the backlog really was still there
        engine.gate.set()
        wait_for(lambda: not ctx.store.pending(), "the backlog to drain")
        wait_for(
            lambda: (root / "feeds" / "de" / "newsroom" / "late-news.html").exists(), "late news published"
        )


def test_stop_abandons_queued_units_and_leaves_them_pending(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr", "de", "es", "ru"))
    config = load_config(root / "config" / "syndicator.toml")
    config = dataclasses.replace(
        config, run=dataclasses.replace(config.run, stop_timeout=timedelta(seconds=60))
    )
    ctx = open_context(config)
    engine = GatedEngine()
    ctx.engines["pseudo"] = engine
    service = Service(ctx, watch=False)  # one worker: four language units queue behind the first
    service.start()
    wait_for(engine.entered.is_set, "translation to start")
    stopper = threading.Thread(target=lambda: setattr(stopper, "clean", service.stop()))
    stopper.start()
    wait_for(service.stopping.is_set, "the stop to begin")
    engine.gate.set()  # the unit under way finishes; the queued ones are dropped
    stopper.join(120)
    assert getattr(stopper, "clean", False)
    counts = ctx.store.counts()
    assert sum(c.get(DONE, 0) for c in counts.values()) == 3  # one language unit finished
    assert sum(c.get(PENDING, 0) for c in counts.values()) == 9  # three units left pending for the restart
    ctx.close()


def test_runner_after_shutdown_abandons() -> None:
    def double(unit: Unit) -> UnitResult:
        return UnitResult(unit, {"done": 2 * len(unit.article_ids)})

    units = [Unit("en", "fr", tuple(range(n))) for n in (1, 2, 3)]
    for runner in (ThreadPoolRunner(double, 2), InProcessRunner(double)):
        results = list(runner.run(units))
        assert sorted(r.counts["done"] for r in results) == [2, 4, 6]
        assert {r.unit for r in results} == set(units)
        runner.shutdown()
        with pytest.raises(Abandoned):
            list(runner.run(units[:1]))


def test_reload_applies_valid_edits_and_rejects_invalid_ones(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    (root / "wire").mkdir()
    write_article(root / "wire", "wire-1", "Wire story", "From the wire.")
    file = root / "config" / "syndicator.toml"
    ctx = open_context(load_config(file))
    seen: list[tuple[Config, Config]] = []
    hook = lambda new_ctx, old: seen.append((new_ctx.config, old))  # noqa: E731
    RELOAD_HOOKS.append(hook)
    service = Service(ctx)
    service.start()
    try:
        reloader = service.reloader
        job = service.scheduler.jobs.get_job(source_job_id("newsroom"))
        assert job.trigger.interval == timedelta(minutes=5)

        # Add a source, a language, and change an interval in one edit.
        edit_file(file, 'every = "5m"', 'every = "20s"')
        edit_file(file, 'targets = ["fr"]', 'targets = ["fr", "de"]')
        with file.open("a", encoding="utf-8") as fh:
            fh.write('\n[[source]]\nname = "wire"\nkind = "folder"\npath = "wire"\nevery = "1m"\n')
        assert reloader.reload(["syndicator.toml"])
        assert service.scheduler.jobs.get_job(source_job_id("newsroom")).trigger.interval == timedelta(
            seconds=20
        )
        assert service.scheduler.jobs.get_job(source_job_id("wire")) is not None
        assert service.ctx.config.languages.targets == ("fr", "de")
        # Hooks see the previous config. The file watcher may apply the same edit too (before or after this
        # call), so look at the first reload that brought the new targets.
        first = next(old for new, old in seen if new.languages.targets == ("fr", "de"))
        assert first.languages.targets == ("fr",)
        wait_for(lambda: "wire-1" in _stored_keys(service.ctx), "the new source to be polled")
        wait_for(lambda: (root / "feeds" / "de" / "rss.xml").exists(), "the new language to be backfilled")
        wait_for(lambda: not service.ctx.store.pending(), "the backfill to finish")

        # An invalid edit: rejected, recorded with file, line, key and hint; the running config stays.
        edit_file(file, 'every = "20s"', 'every = "soon"')
        assert not reloader.reload(["syndicator.toml"])
        record = json.loads((root / RELOAD_ERROR_FILE).read_text(encoding="utf-8"))
        problem = record["problems"][0]
        assert (
            problem["key"] == "source[0].every" and problem["line"] and "syndicator.toml" in problem["file"]
        )
        assert problem["hint"] or "duration" in problem["message"]
        assert service.scheduler.jobs.get_job(source_job_id("newsroom")).trigger.interval == timedelta(
            seconds=20
        )

        # Fixing it (and removing the source) clears the error and stops the removed source's job.
        text = replaced(file.read_text(encoding="utf-8"), 'every = "soon"', 'every = "20s"')
        file.write_text(text.split('[[source]]\nname = "wire"')[0], encoding="utf-8")
        assert reloader.reload(["syndicator.toml"])
        assert not (root / RELOAD_ERROR_FILE).exists()
        assert service.scheduler.jobs.get_job(source_job_id("wire")) is None
        assert service.ctx.store.states("schedule:").keys() == {"schedule:newsroom"}
    finally:
        RELOAD_HOOKS.remove(hook)
        assert service.stop()
        ctx.close()


def test_the_first_publish_removes_temp_files_left_by_a_killed_publish(
    make_instance: Callable[..., Path],
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    (root / "feeds" / "fr").mkdir(parents=True)
    leftover = root / "feeds" / "fr" / ".rss.xml.k3xq9a1z.tmp"
    leftover.write_bytes(b"<rss><chann")  # what kill -9 leaves mid-write
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    service = Service(ctx, watch=False)
    service.start()
    try:
        wait_for(lambda: (root / "feeds" / "fr" / "rss.xml").exists(), "the first publish")
        assert not leftover.exists()
    finally:
        assert service.stop()
        ctx.close()


class RecordingGatedPair(GatedPair):
    """A gated pair that also records, in one shared list, which language translated which sentences."""

    def __init__(self, source: str, target: str, engine: RecordingGatedEngine) -> None:
        super().__init__(source, target, engine.entered, engine.gate)
        self.log = engine.log

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        out = super().translate_batch(sentences)
        self.log.append((self.target, " ".join(sentences)))
        return out


class RecordingGatedEngine(GatedEngine):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str]] = []

    def pair(self, source: str, target: str) -> PseudoPair | None:
        return self.pairs.setdefault((source, target), RecordingGatedPair(source, target, self))


def test_a_backlog_gives_way_to_news(make_instance: Callable[..., Path]) -> None:
    """An article that arrives during a backlog is translated and published before the rest of the backlog."""
    from syndicator.models import CycleReport
    from syndicator.pipeline import collect

    root = make_instance(engine="pseudo", targets=("de", "fr"))
    config = _fast_sources(load_config(root / "config" / "syndicator.toml"))
    engine = RecordingGatedEngine()
    # The backlog: stored before the service starts, so not news to it.
    with gated_service(config, engine, before=lambda ctx: collect(ctx, CycleReport())) as ctx:
        assert len(ctx.store.pending()) == 6
        wait_for(engine.entered.is_set, "the backlog's first unit to start")
        write_article(root / "articles", "late-news", "Late news", "It arrived during the backlog.")
        wait_for(lambda: "late-news" in _stored_keys(ctx), "the new article to be stored")
        engine.gate.set()
        wait_for(lambda: not ctx.store.pending(), "everything translated")
        wait_for(
            lambda: (root / "feeds" / "fr" / "newsroom" / "late-news.html").exists(), "late news published"
        )
    order = [(target, "arrived during the backlog" in text) for target, text in engine.log]
    # de: the backlog unit under way finishes; then the news in both languages; then the backlog's fr unit.
    late_fr = order.index(("fr", True))
    backlog_fr = order.index(("fr", False))
    assert order[0] == ("de", False)
    assert late_fr < backlog_fr, order


def test_a_pool_runner_closed_early_leaves_units_not_started() -> None:
    started: list[Unit] = []
    release = threading.Event()

    def slow(unit: Unit) -> UnitResult:
        started.append(unit)
        if unit.article_ids[0] != 0:
            assert release.wait(60)
        return UnitResult(unit, {"done": len(unit.article_ids)})

    runner = ThreadPoolRunner(slow, 2)
    units = [Unit("en", "fr", (n,)) for n in range(6)]
    results = runner.run(units)
    first = next(results)  # unit 0 is quick; unit 1 is under way on the other worker
    assert first.unit == units[0]
    closer = threading.Thread(target=results.close)  # type: ignore[attr-defined]
    closer.start()
    wait_for(lambda: len(started) >= 2, "the second unit to be under way")
    assert closer.is_alive()  # waits for the unit under way
    release.set()
    closer.join(60)
    assert not closer.is_alive()
    assert len(started) <= 3  # at most what had started when the caller stopped reading
    runner.shutdown()
