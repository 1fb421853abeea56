"""Taking an article down (`syndicator withdraw`): it leaves every published file (every format and language,
archives, entry pages, gzip copies, the landing page) and every partner feed, stays down while its source
still offers it or edits it, and comes back whole with --undo. Removing its drop file is not a takedown."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.localize import Catalogs
from syndicator.partners import Partner, load_partners
from syndicator.pipeline import open_context
from syndicator.serve.partner_feeds import build_partner_feeds
from syndicator.service import Service
from syndicator.store import Store
from tests.test_restricted import SECRET, _article, _cli, _filler, _leaks, _partners


@pytest.fixture
def root(make_instance: Callable[..., Path]) -> Path:
    # Two entries per document, so the article sits in a full archive page once newer ones arrive.
    root = make_instance(
        articles=[], engine="pseudo", targets=("fr", "ar"),
        extra="\n[serve]\nport = 0\ngzip_files = true\n\n[publish]\nmax_entries = 2\n",
    )  # fmt: skip
    (root / "config" / "partners.toml").write_text(_partners("embargoed"), encoding="utf-8")
    for n in range(1, 6):
        (root / "articles" / f"filler-{n}.md").write_text(_filler(n), encoding="utf-8")
    (root / "articles" / "plans.md").write_text(_article(["news"]), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    return root


def _partner_feed(root: Path, partner: Partner | None = None) -> bytes:
    config = load_config(root / "config" / "syndicator.toml")
    partners = load_partners(config.partners_file, config.languages.all)
    store = Store(config.store.url)
    try:
        files = build_partner_feeds(
            config, store, Catalogs(config.publish.locales_dir), partner or Partner("anyone", "0" * 64),
            partners.restricted, "fr", "https://x/p/",
        )  # fmt: skip
        return files["atom.xml"]
    finally:
        store.close()


def test_a_withdrawn_article_leaves_every_file_and_stays_down_until_undone(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = set(_leaks(root))
    assert {"en/newsroom/plans.html", "fr/newsroom/plans.html", "ar/newsroom/plans.html.gz"} <= published
    assert any("/archive/" in f for f in published)  # in a full archive page

    assert main(["--config", str(root / "config" / "syndicator.toml"), "withdraw", "newsroom", "plans",
                 "--reason", "a court order"]) == 0  # fmt: skip
    assert "withdrawn: newsroom/plans" in capsys.readouterr().out
    assert _leaks(root) == []
    assert _cli(root, "verify") == 0  # the feeds agree with the store: nothing missing, nothing extra
    store = sqlite3.connect(root / "data" / "syndicator.db")
    (reason,) = store.execute("SELECT withdrawn_reason FROM articles WHERE key = 'plans'").fetchone()
    store.close()
    assert reason == "a court order"

    # Its source still offers it, then edits it: it stays down.
    assert _cli(root, "run", "--once") == 0
    (root / "articles" / "plans.md").write_text(_article(["news"]) + "\nA new paragraph.\n", encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert _cli(root, "publish", "--rebuild") == 0
    assert _leaks(root) == []

    assert _cli(root, "withdraw", "--undo", "newsroom", "plans") == 0
    assert set(_leaks(root)) >= {"en/newsroom/plans.html", "fr/newsroom/plans.html", "ar/newsroom/plans.html"}
    assert _cli(root, "verify") == 0


def test_partner_feeds_leave_it_out_too(root: Path) -> None:
    # The newest article this time: partner feeds hold the newest max_entries.
    newer = _article(["news"]).replace("2026-02-01", "2026-04-01")
    (root / "articles" / "plans.md").write_text(newer, encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert SECRET.encode() in _partner_feed(root)
    assert _cli(root, "withdraw", "newsroom", "plans") == 0
    assert SECRET.encode() not in _partner_feed(root)


def test_an_unknown_article_is_named_and_nothing_changes(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.read_bytes() for p in (root / "feeds").rglob("*") if p.is_file()}
    assert main(["--config", str(root / "config" / "syndicator.toml"), "withdraw", "newsroom", "nosuch"]) != 0
    err = capsys.readouterr().err
    assert "no article 'nosuch' from source 'newsroom'" in err and "new article ID" in err
    assert {p: p.read_bytes() for p in (root / "feeds").rglob("*") if p.is_file()} == before


def test_removing_the_drop_file_is_not_a_takedown(root: Path) -> None:
    (root / "articles" / "plans.md").unlink()
    assert _cli(root, "run", "--once") == 0
    assert "en/newsroom/plans.html" in _leaks(root)


def test_a_running_service_sees_a_takedown_from_another_process(root: Path) -> None:
    """`withdraw` beside a running service only marks the store; the service's housekeeping (every minute)
    notices and asks for a pass, which republishes."""
    config = load_config(root / "config" / "syndicator.toml")
    ctx = open_context(config)
    try:
        service = Service(ctx)
        service.work_due()  # the first look always asks for a pass
        assert not service.work_due()
        other = Store(config.store.url)
        try:
            assert other.withdraw("newsroom", "plans", "", datetime.now(UTC)) is not None
        finally:
            other.close()
        assert service.work_due()
        assert not service.work_due()
    finally:
        ctx.close()


def test_a_takedown_marked_but_never_published_is_published_by_the_next_run(root: Path) -> None:
    """A kill between `withdraw`'s store write and its publish (or a full disk during that publish): the mark
    changed every language's publish signature, so the next publish rewrites them all without it."""
    config = load_config(root / "config" / "syndicator.toml")
    store = Store(config.store.url)
    try:
        assert store.withdraw("newsroom", "plans", "", datetime.now(UTC)) is not None
    finally:
        store.close()
    assert _leaks(root)  # the process died before publishing
    assert _cli(root, "run", "--once") == 0
    assert _leaks(root) == []
    assert _cli(root, "verify") == 0
