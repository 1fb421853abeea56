"""Instant pickup: a file dropped into a watched folder reaches the feeds within seconds, with `syndicator run`
going as a real process, its source polled only once an hour (so only the watcher can explain it), and a real
Apertium pair translating it.

The deadlines (10 s to the source-language feed, 20 s to the Spanish one, counted from the copy) are the
limits issue 14 sets for an editor who drops a file and refreshes; everything before the drop waits with the
usual generous hang guard.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from tests.conftest import DATA
from tests.support.apertium import needs_mode
from tests.support.service import ServiceProcess, wait_for

SOURCE_DEADLINE = 10.0  # seconds from the copy to the English feed (issue 14)
TARGET_DEADLINE = 20.0  # ... and to the Spanish feed, translated by Apertium


def _links(root: Path, lang: str) -> list[str]:
    path = root / "feeds" / lang / "atom.xml"
    if not path.exists():
        return []
    return [e.get("link", "") for e in feedparser.parse(path.read_bytes()).entries]


def _within(deadline: float, predicate: Callable[[], bool]) -> float | None:
    """Seconds until predicate() held, polling every 0.1 s; None when it did not by `deadline` (monotonic)."""
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


@needs_mode("eng-spa", "apertium-eng-spa")
def test_a_copied_file_reaches_the_feeds_within_seconds(make_instance: Callable[..., Path]) -> None:
    root = make_instance(
        articles=(),
        targets=("es",),
        engine="apertium",
        extra="",
    )
    config = root / "config" / "syndicator.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('every = "5m"', 'every = "1h"'), "utf-8")
    folder = root / "articles"
    with ServiceProcess(root) as service:
        wait_for(lambda: (root / "feeds" / "en" / "atom.xml").exists(), "the first publish")
        wait_for(lambda: f"watching {folder.resolve()}" in service.log(), "the drop folder watched")
        # Editors' droppings are not articles: never picked up, never read.
        (folder / ".harbour.md.swp").write_bytes(b"\x00swap")
        (folder / "harbour.md~").write_text("---\ntitle: Backup\n---\n", encoding="utf-8")

        source = DATA / "articles" / "2026-03-01-harbour-bridge.md"
        start = time.monotonic()
        shutil.copy(source, folder / source.name)  # a copy, not a rename: the watcher waits for it to settle
        key = "harbour-bridge"  # the file's front matter id

        def listed(lang: str) -> Callable[[], bool]:
            return lambda: any(f"/newsroom/{key}" in link for link in _links(root, lang))

        in_source = _within(start + SOURCE_DEADLINE, listed("en"))
        assert in_source is not None, f"not in the English feed {SOURCE_DEADLINE:.0f}s after the copy\n" + (
            service.log()
        )
        in_target = _within(start + TARGET_DEADLINE, listed("es"))
        assert in_target is not None, f"not in the Spanish feed {TARGET_DEADLINE:.0f}s after the copy\n" + (
            service.log()
        )
        log = service.log()
        assert log.count(f"drop folder newsroom: picked up {source.name}") == 1, log
        assert "swp" not in log and "harbour.md~" not in log, log
        # Only the watcher can explain it: the one scheduled poll ran at start-up.
        assert "poll" not in log.split(f"picked up {source.name}")[0].rsplit("\n", 1)[-1]
        assert service.terminate() == 0


def test_an_image_copied_after_its_article_reaches_the_feeds_within_seconds(
    make_instance: Callable[..., Path],
) -> None:
    """The lead image lives in a sub-folder (articles/images/): copying it there is a change of its article,
    picked up like a dropped file, not left for the next scheduled poll."""
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    config = root / "config" / "syndicator.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('every = "5m"', 'every = "1h"'), "utf-8")
    folder = root / "articles"
    (folder / "images").mkdir()
    (folder / "lead.md").write_text(
        "---\ntitle: A ferry at dawn\ndate: 2026-03-05T07:00:00Z\nimage: images/lead.png\n---\nText.\n",
        encoding="utf-8",
    )
    page = root / "feeds" / "en" / "newsroom" / "lead.html"
    with ServiceProcess(root) as service:
        wait_for(page.exists, "the article published without its image")
        wait_for(lambda: f"watching {folder.resolve()}" in service.log(), "the drop folder watched")
        assert b"<img" not in page.read_bytes()
        start = time.monotonic()
        shutil.copy(DATA / "images" / "images" / "ferry.png", folder / "images" / "lead.png")
        shown = _within(start + SOURCE_DEADLINE, lambda: b"<img" in page.read_bytes())
        assert shown is not None, f"no image {SOURCE_DEADLINE:.0f}s after the copy\n" + service.log()
        assert service.terminate() == 0


@pytest.mark.parametrize(
    ("written", "tag"),
    [("images/ferry.png", b"<img"), ("timetable.pdf", b".pdf")],
    ids=["body-image-in-a-sub-folder", "pdf-beside-the-article"],
)
def test_a_file_the_body_links_copied_after_its_article_reaches_the_feeds_within_seconds(
    make_instance: Callable[..., Path], written: str, tag: bytes
) -> None:
    """A file the body links (an image in a sub-folder, a PDF beside the articles) arriving after its
    article is a change of the article, picked up by the watch like the lead image."""
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    config = root / "config" / "syndicator.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('every = "5m"', 'every = "1h"'), "utf-8")
    folder = root / "articles"
    (folder / "images").mkdir()
    link = f"![The new ferry]({written})" if written.endswith(".png") else f"[The timetable]({written})"
    (folder / "inline.md").write_text(
        f"---\ntitle: A ferry at dawn\ndate: 2026-03-05T07:00:00Z\n---\nText {link}.\n", encoding="utf-8"
    )
    page = root / "feeds" / "en" / "newsroom" / "inline.html"
    with ServiceProcess(root) as service:
        wait_for(page.exists, "the article published without the file")
        wait_for(lambda: f"watching {folder.resolve()}" in service.log(), "the drop folder watched")
        assert tag not in page.read_bytes()
        start = time.monotonic()
        if written.endswith(".png"):
            shutil.copy(DATA / "images" / "images" / "ferry.png", folder / written)
        else:
            (folder / written).write_bytes(b"%PDF-1.4\n% a timetable\n")
        shown = _within(start + SOURCE_DEADLINE, lambda: tag in page.read_bytes())
        assert shown is not None, f"not linked {SOURCE_DEADLINE:.0f}s after the copy\n" + service.log()
        assert service.terminate() == 0


def test_news_in_a_big_first_poll_is_published_before_the_backlog_is_done(
    make_instance: Callable[..., Path],
) -> None:
    """The service starts on a folder of 300 unpublished articles and a file written last: the first pass
    translates and publishes only the latest articles (the newest file among them) and the rest follows as
    backlog. Before, all 301 were "news" together and no translated feed changed until every one was done."""
    from syndicator.config import load_config
    from syndicator.store import Store
    from tests.support.service import write_article

    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    folder = root / "articles"
    for n in range(300):
        write_article(folder, f"old-{n:03d}", f"Old story {n}", "Old news. It waited.")
    write_article(folder, "zz-latest", "Just in", "Breaking news.")  # read last: the newest article
    store_url = load_config(root / "config" / "syndicator.toml").store.url
    with ServiceProcess(root, slow=0.5) as service:  # each batch of the pseudo engine takes 0.5 s
        wait_for(lambda: any("zz-latest" in link for link in _links(root, "fr")), "the newest file in French")
        store = Store(store_url)
        try:
            pending = len(store.pending("fr"))
        finally:
            store.close()
        assert pending > 0, "the backlog was done first\n" + service.log()
        assert service.terminate() == 0
