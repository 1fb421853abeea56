"""`syndicator run --once` with a feed and a web source on 127.0.0.1: published, translated, health shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from syndicator.cli import main
from tests.support.instances import FAST_HTTP, source_toml
from tests.support.upstream import Reply, Upstream, fixture

FRENCH_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Agence</title><link>http://x/</link><description>d</description>
<item><title>Le march\xc3\xa9 de nuit rouvre sur le port</title><guid>fr-1</guid>
<pubDate>Sat, 07 Mar 2026 08:00:00 +0000</pubDate>
<description>Le march\xc3\xa9 de nuit du port a rouvert samedi soir avec plus de quatre-vingts stands de cuisine et
d'artisanat. Les habitants sont venus nombreux malgr\xc3\xa9 la pluie.</description></item>
</channel></rss>"""


def _run(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _titles(root: Path, lang: str) -> list[str]:
    feed = feedparser.parse((root / "feeds" / lang / "rss.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return [e.title for e in feed.entries]


@pytest.fixture
def site(make_instance: Callable[..., Path], upstream: Upstream) -> Path:
    upstream.set("/feed.xml", fixture("feed.xml", base=upstream.base))
    upstream.set("/agence.xml", Reply(body=FRENCH_FEED))
    upstream.set("/news/", fixture("listing.html"))
    upstream.set("/news/harbour-bridge.html?utm_campaign=home", fixture("harbour-bridge.html"))
    upstream.set("/news/library-hours.html", fixture("library-hours.html"))
    sources = (
        source_toml("wire", "feed", upstream.url("/feed.xml"))
        + source_toml("site", "web", upstream.url("/news/"))
        + source_toml("agence", "feed", upstream.url("/agence.xml"), detect_language=True)
    )
    return make_instance(engine="pseudo", targets=("fr", "es"), extra=FAST_HTTP + sources)


def test_run_once_publishes_feed_and_web_articles(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(site, "run", "--once") == 0
    out = capsys.readouterr().out
    assert "1 duplicate(s)" in out  # the harbour bridge story: in the feed and on the web page
    en = _titles(site, "en")
    for title in (
        "Harbour bridge reopens",
        "School garden blooms",
        "Night market opens",
        "Library extends its hours",
    ):
        assert en.count(title) == 1, en
    assert "Harbour Bridge Reopens After Repairs" in en  # the drop folder still works beside them
    fr = _titles(site, "fr")
    assert "[fr] Library extends its hours" in fr
    # A French article from a feed is the French feed's original, and translated into the others.
    assert "Le marché de nuit rouvre sur le port" in fr
    assert "[en] Le marché de nuit rouvre sur le port" in en
    assert "[es] Le marché de nuit rouvre sur le port" in _titles(site, "es")


def test_a_failing_source_is_named_with_its_url_in_run_and_status(
    site: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream.set("/feed.xml", Reply(status=503))
    assert _run(site, "run", "--once") == 0  # the other sources are published
    out = capsys.readouterr().out
    assert f"{upstream.url('/feed.xml')}: HTTP 503" in out
    assert "Library extends its hours" in _titles(site, "en")
    assert _run(site, "status") == 0
    status = capsys.readouterr().out
    assert (
        f"wire (feed, every 1m): FAILING (1 time(s) in a row): {upstream.url('/feed.xml')}: HTTP 503"
        in status
    )
    assert "next try:" in status
    assert _run(site, "status", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    wire = next(s for s in data["sources"] if s["name"] == "wire")
    assert wire["failures"] == 1 and wire["next_poll"] and wire["url"] == upstream.url("/feed.xml")


def test_every_page_of_an_upstream_article_links_its_original(site: Path, upstream: Upstream) -> None:
    """The source-language page too: a reader reaches the page the article came from, not only a translation."""
    assert _run(site, "run", "--once") == 0
    original = upstream.url("/news/school-garden.html")
    pages = sorted((site / "feeds").glob("*/wire/*.html"))
    garden = [p for p in pages if original.encode() in p.read_bytes()]
    assert {p.parent.parent.name for p in garden} == {"en", "fr", "es"}, pages
    entry = [e for e in feedparser.parse((site / "feeds" / "en" / "atom.xml").read_bytes()).entries
             if e.title == "School garden blooms"]  # fmt: skip
    assert original in entry[0].content[0].value  # the feeds carry the same content
