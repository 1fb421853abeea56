"""WebSub: feeds advertise hub and self links; a publish that changed feeds pings every hub once per feed."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest

from syndicator.cli import main
from tests.support.edits import replaced
from tests.support.servers import free_port


class Hub:
    """A hub stand-in on 127.0.0.1 that records the publish pings it receives."""

    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hub.pings.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def urls(self) -> list[str]:
        assert all(p["hub.mode"] == ["publish"] for p in self.pings)
        return sorted(u for p in self.pings for u in p["hub.url"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hubs() -> Iterator[list[Hub]]:
    made = [Hub(), Hub()]
    yield made
    for hub in made:
        hub.close()


def _run(root: Path) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"])


def test_publish_pings_each_hub_once_per_changed_feed(
    make_instance: Callable[..., Path], hubs: list[Hub]
) -> None:
    down = f"http://127.0.0.1:{free_port()}/hub"  # nothing listens: logged, never fatal
    urls = ", ".join(f'"{u}"' for u in [hubs[0].url, hubs[1].url, down])
    root = make_instance(targets=("fr",), engine="pseudo", extra=f"\n[serve]\nhubs = [{urls}]\n")
    assert _run(root) == 0
    feeds = [f"https://news.example.org/feeds/{lang}/{name}" for lang in ("en", "fr")
             for name in ("atom.xml", "feed.json", "rss.xml")]  # fmt: skip
    for hub in hubs:
        assert hub.urls() == sorted(feeds)
    for name in ("rss.xml", "atom.xml"):
        feed = feedparser.parse((root / "feeds" / "fr" / name).read_bytes())
        rels = {link.rel: link.href for link in feed.feed.links}
        assert rels["self"] == f"https://news.example.org/feeds/fr/{name}"
        hub_links = [link.href for link in feed.feed.links if link.rel == "hub"]
        assert hub_links == [hubs[0].url, hubs[1].url, down]
    data = json.loads((root / "feeds" / "fr" / "feed.json").read_bytes())
    assert [h["url"] for h in data["hubs"]] == [hubs[0].url, hubs[1].url, down]

    # Nothing changed: no pings. One article edited: only its language feeds again, once each.
    for hub in hubs:
        hub.pings.clear()
    assert _run(root) == 0
    assert hubs[0].pings == [] and hubs[1].pings == []
    article = root / "articles" / "2026-03-01-harbour-bridge.md"
    article.write_text(
        replaced(article.read_text(encoding="utf-8"), "six weeks", "seven weeks"), encoding="utf-8"
    )
    assert _run(root) == 0
    for hub in hubs:
        assert hub.urls() == sorted(feeds)


def test_no_hubs_no_links(make_instance: Callable[..., Path]) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    assert _run(root) == 0
    feed = feedparser.parse((root / "feeds" / "fr" / "atom.xml").read_bytes())
    assert not [link for link in feed.feed.links if link.rel == "hub"]
    assert "hubs" not in json.loads((root / "feeds" / "fr" / "feed.json").read_bytes())
