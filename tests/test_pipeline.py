"""The whole cycle in process with the pseudo engine: idempotence, updates, languages, failures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from syndicator.config import load_config
from syndicator.errors import PublishError
from syndicator.pipeline import open_context, run_cycle
from tests.support.edits import replaced


def _cycle(root: Path):  # type: ignore[no-untyped-def]
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    try:
        return run_cycle(ctx)
    finally:
        ctx.close()


def _snapshot(feeds: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(feeds)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in feeds.rglob("*")
        if p.is_file()
    }


def test_rerun_is_idempotent_and_edit_updates_every_language(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr", "zh"))
    first = _cycle(root)
    assert (first.new, first.translated) == (3, {"fr": 3, "zh": 3})
    before = _snapshot(root / "feeds")
    assert {"en/rss.xml", "fr/atom.xml", "zh/feed.json"} <= set(before)

    again = _cycle(root)
    assert (again.new, again.updated, again.unchanged, again.written) == (0, 0, 3, [])
    assert _snapshot(root / "feeds") == before

    path = root / "articles" / "2026-03-02-school-garden.md"
    path.write_text(
        replaced(path.read_text(encoding="utf-8"), "forty trees", "fifty trees"), encoding="utf-8"
    )
    edited = _cycle(root)
    assert (edited.updated, edited.translated) == (1, {"fr": 1, "zh": 1})
    after = _snapshot(root / "feeds")
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        f"{lang}/{name}" for lang in ("en", "fr", "zh") for name in ("rss.xml", "atom.xml", "feed.json")
    } | {f"{lang}/newsroom/school-garden.html" for lang in ("en", "fr", "zh")}
    for lang in ("en", "fr", "zh"):
        feed = feedparser.parse((root / "feeds" / lang / "atom.xml").read_bytes())
        garden = [e for e in feed.entries if "school-garden" in e.id]
        assert "fifty trees" in garden[0].content[0].value
        assert len(feed.entries) == 3


def test_new_language_is_backfilled(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    _cycle(root)
    config = root / "config" / "syndicator.toml"
    config.write_text(
        replaced(config.read_text(encoding="utf-8"), 'targets = ["fr"]', 'targets = ["fr", "de"]')
    )
    report = _cycle(root)
    assert report.translated == {"de": 3}
    assert len(feedparser.parse((root / "feeds" / "de" / "rss.xml").read_bytes()).entries) == 3


def test_publish_failure_keeps_previous_feeds(
    make_instance: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    _cycle(root)
    before = _snapshot(root / "feeds")
    path = root / "articles" / "2026-03-03-night-market.md"
    path.write_text(
        replaced(path.read_text(encoding="utf-8"), "every Friday", "every Saturday"), encoding="utf-8"
    )

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(PublishError, match="No space left"):
        _cycle(root)
    monkeypatch.undo()
    assert _snapshot(root / "feeds") == before
    assert not [p for p in (root / "feeds").rglob("*") if p.name.startswith(".")]
    # The article was stored and translated; the next cycle publishes it.
    report = _cycle(root)
    assert "fr/atom.xml" in report.written
    assert "every Saturday" in (root / "feeds" / "fr" / "atom.xml").read_text(encoding="utf-8")


def test_the_latest_stored_articles_are_translated_first_in_every_language(
    make_instance: Callable[..., Path],
) -> None:
    """A backlog is planned latest first, a unit of each language in turn: a file dropped while a backlog waits
    (or picked up with it) is in the first units, not behind every older article of every language."""
    from syndicator.models import CycleReport
    from syndicator.pipeline import collect
    from syndicator.pipeline.units import ARTICLES_PER_UNIT, plan
    from tests.support.service import write_article

    root = make_instance(articles=(), targets=("fr", "de"), engine="pseudo")
    for n in range(2 * ARTICLES_PER_UNIT + 5):
        write_article(root / "articles", f"old-{n:03d}", f"Old {n}", "Old news.")
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    try:
        collect(ctx, CycleReport())
        write_article(root / "articles", "dropped", "Just in", "Breaking news.")
        collect(ctx, CycleReport())
        dropped = ctx.store.article_by_key("newsroom", "dropped")
        assert dropped is not None
        units = plan(ctx)
    finally:
        ctx.close()
    assert [u.target for u in units] == ["de", "fr"] * 3
    for unit in units[:2]:
        assert unit.article_ids[0] == dropped.id
        assert list(unit.article_ids) == sorted(unit.article_ids, reverse=True)


def test_a_language_waiting_for_a_model_is_warned_about_once_while_it_waits(
    make_instance: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A service passes after every dropped file: one warning per language, not one per pass."""
    import logging

    caplog.set_level(logging.DEBUG, logger="syndicator")
    root = make_instance(targets=("fr", "ar"))  # argos, no model installed
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    try:
        run_cycle(ctx)
        warned = [r for r in caplog.records if "wait for a translation model" in r.getMessage()]
        assert {r.getMessage().split(":")[0] for r in warned if r.levelno == logging.WARNING} == {"fr", "ar"}
        caplog.clear()
        for n in range(3):  # three more dropped files, a cycle each
            (root / "articles" / f"drop-{n}.md").write_text(
                f"---\ntitle: Drop {n}\ndate: 2026-03-0{n + 1}T10:00:00Z\n---\nDropped {n}.\n",
                encoding="utf-8",
            )
            run_cycle(ctx)
        again = [r for r in caplog.records if "wait for a translation model" in r.getMessage()]
        assert len(again) == 6 and all(r.levelno == logging.DEBUG for r in again)
    finally:
        ctx.close()
