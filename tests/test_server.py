"""The built-in server: changes seen after a publish, operations endpoints, and `run` / `serve` as real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import lxml.html
import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.serve.filecache import accepted_codings, media_type
from syndicator.serve.server import parse_accept_language
from tests.support.edits import replaced
from tests.support.servers import Response, builtin_server, fetch, free_port


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


@pytest.fixture
def instance(make_instance: Callable[..., Path]) -> Path:
    root = make_instance(targets=("fr", "ar"), engine="pseudo", extra='\n[serve]\nport = 0\nmax_age = "1m"\n')
    assert _cli(root, "run", "--once") == 0
    return root


def test_new_publish_is_served_with_a_new_etag(instance: Path) -> None:
    config = load_config(instance / "config" / "syndicator.toml")
    with builtin_server(config) as server:
        before = fetch(server.url, "/feeds/fr/atom.xml")
        assert before.headers["cache-control"] == "public, max-age=60"
        article = instance / "articles" / "2026-03-01-harbour-bridge.md"
        article.write_text(
            replaced(article.read_text(encoding="utf-8"), "six weeks", "ten weeks"), encoding="utf-8"
        )
        # Another process publishes (here: another writer): the server learns it from file-system events.
        assert _cli(instance, "run", "--once") == 0
        after = _wait_for(
            server.url,
            "/feeds/fr/atom.xml",
            lambda r: r.status == 200 and r.headers["etag"] != before.headers["etag"],
            headers={"If-None-Match": before.headers["etag"]},
        )
        assert after.body == (instance / "feeds" / "fr" / "atom.xml").read_bytes()
        assert (
            fetch(server.url, "/feeds/fr/atom.xml", headers={"If-None-Match": after.headers["etag"]}).status
            == 304
        )


def test_brotli_methods_and_ops_endpoints(instance: Path) -> None:
    config = load_config(instance / "config" / "syndicator.toml")
    with builtin_server(config) as server:
        r = fetch(server.url, "/feeds/ar/rss.xml", headers={"Accept-Encoding": "gzip, br"})
        assert r.headers["content-encoding"] == "br"
        assert brotli.decompress(r.body) == (instance / "feeds" / "ar" / "rss.xml").read_bytes()
        assert (
            fetch(server.url, "/feeds/ar/rss.xml", headers={"Accept-Encoding": "br;q=0, gzip"}).headers[
                "content-encoding"
            ]
            == "gzip"
        )
        post = fetch(server.url, "/feeds/ar/rss.xml", method="POST")
        assert post.status == 405 and post.headers["allow"] == "GET, HEAD"
        health = fetch(server.url, "/healthz")
        assert health.status == 200 and json.loads(health.body)["status"] == "ok"
        fetch(server.url, "/feeds/ar/rss.xml", headers={"If-None-Match": r.headers["etag"]})
        metrics = fetch(server.url, "/metrics").body.decode()
        assert 'syndicator_http_requests_total{kind="feed",status="304"} 1' in metrics
        assert "syndicator_http_not_modified_total 1" in metrics
        assert 'syndicator_translation_backlog{language="fr"} 0' in metrics
        # A failed publish turns /healthz to 503.
        from syndicator.models import CycleReport

        server.app.health.listener(CycleReport(), "fr: disk full")
        assert fetch(server.url, "/healthz").status == 503
        assert "syndicator_last_publish_ok 0" in fetch(server.url, "/metrics").body.decode()


def _wait_for(
    base: str, path: str, ok: Callable[[Response], bool], headers: dict[str, str] | None = None
) -> Response:
    """Poll until ok(response) (start-up of a real process, a change noticed; not a timed assertion)."""
    last: Response | Exception | None = None
    deadline = time.monotonic() + 120  # a hang guard, generous for a loaded machine
    while time.monotonic() < deadline:
        try:
            last = fetch(base, path, headers=headers)
            if ok(last):
                return last
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"{base}{path} never became ready: {last}")


def _process(root: Path, port: int, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "syndicator", "--config", str(root / "config" / "syndicator.toml"),
         "--set", f"serve.port={port}", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_run_serves_while_it_publishes_and_stops_on_sigterm(make_instance: Callable[..., Path]) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    port = free_port()
    proc = _process(root, port, "run")
    base = f"http://127.0.0.1:{port}"
    try:

        def published(r: Response) -> bool:
            line = next(
                x for x in r.body.decode().splitlines() if x.startswith("syndicator_feeds_published_total")
            )
            return int(line.split()[1]) > 0

        _wait_for(base, "/metrics", published)  # the first publish is done
        # Public health says healthy or not, nothing more (details are on the loopback-only /status).
        assert json.loads(fetch(base, "/healthz").body) == {"status": "ok"}
        feed = _wait_for(base, "/feeds/fr/atom.xml", lambda r: r.status == 200)
        assert feed.body == (root / "feeds" / "fr" / "atom.xml").read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, out


def test_serve_alone_and_pull_statistics_survive_shutdown(
    instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    proc = _process(instance, port, "serve")
    base = f"http://127.0.0.1:{port}"
    try:
        first = _wait_for(base, "/feeds/en/rss.xml", lambda r: r.status == 200)
        fetch(base, "/feeds/en/rss.xml", headers={"If-None-Match": first.headers["etag"]})
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, out
    capsys.readouterr()
    assert _cli(instance, "partners", "--json") == 0
    (public,) = json.loads(capsys.readouterr().out)
    assert (public["partner"], public["pulls"], public["not_modified_share"]) == ("(public)", 2, 0.5)


def test_serve_reports_a_busy_port(instance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert _cli(instance, "--set", f"serve.port={port}", "serve") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_header_parsing() -> None:
    assert parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0, *;q=0.5") == ["fr-CH", "fr", "en"]
    assert accepted_codings("gzip;q=0, br") == {"br"}
    assert accepted_codings("*") == {"br", "gzip"}
    assert media_type("x/y.bin") == "application/octet-stream"
    assert media_type("fr/feed.json") == "application/feed+json; charset=utf-8"


def test_serve_settings_are_validated(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(
        targets=("fr",), engine="pseudo", extra='\n[serve]\nhubs = ["ftp://hub"]\nmax_age = 300\n'
    )
    assert _cli(root, "check") == 2
    err = capsys.readouterr().err
    assert "syndicator.toml:22: serve.hubs[0]: 'ftp://hub' is not an http(s) URL" in err
    assert (
        'serve.max_age: expected a duration string, got an integer (300) (hint: add a unit: max_age = "300s"'
        in err
    )
    config = load_config(
        root / "config" / "syndicator.toml",
        overrides={"serve.hubs": "https://a.example/,https://b.example/", "serve.max_age": "2m"},
    )
    assert config.serve.hubs == ("https://a.example/", "https://b.example/")
    assert config.serve.path == "/feeds/"  # from site.feeds_url


def test_gzip_copies_for_nginx(instance: Path) -> None:
    import gzip

    assert not list((instance / "feeds").rglob("*.gz"))  # off by default
    assert _cli(instance, "--set", "serve.gzip_files=true", "run", "--once") == 0
    for name in ("rss.xml", "atom.xml", "feed.json"):
        data = (instance / "feeds" / "fr" / name).read_bytes()
        assert gzip.decompress((instance / "feeds" / "fr" / (name + ".gz")).read_bytes()) == data
    config = load_config(instance / "config" / "syndicator.toml")
    with builtin_server(config) as server:
        assert fetch(server.url, "/feeds/fr/atom.xml.gz").status == 404  # the copies are nginx's, not URLs


def test_status_page_names_sources_and_languages_and_is_cached(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicator.serve import server as server_module

    config = load_config(instance / "config" / "syndicator.toml")
    with builtin_server(config) as server:
        r = fetch(server.url, "/status")
        assert r.status == 200
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["cache-control"] == "no-store"
        page = lxml.html.fromstring(r.body)
        text = page.text_content()
        assert "newsroom" in text
        assert all(lang in text for lang in ("en", "fr", "ar"))
        assert page.xpath("//*[local-name()='svg']")
        assert fetch(server.url, "/status", method="HEAD").body == b""
        # Within the reuse window a new article does not reach the page; after it, it does.
        monkeypatch.setattr(server_module, "STATUS_TTL", 3600.0)
        (instance / "articles" / "2026-03-04-ferry.md").write_text(
            "---\ntitle: Ferry Timetable\ndate: 2026-03-04T09:00:00+08:00\nid: ferry\n---\nThe ferry runs hourly.\n",
            encoding="utf-8",
        )
        assert _cli(instance, "run", "--once") == 0
        assert fetch(server.url, "/status").body == r.body
        monkeypatch.setattr(server_module, "STATUS_TTL", 0.0)
        assert fetch(server.url, "/status").body != r.body


def test_status_page_refused_to_other_addresses(instance: Path) -> None:
    """The ASGI layer alone, with a client address no test can connect from for real."""
    import asyncio

    from syndicator.localize import Catalogs
    from syndicator.serve.server import FeedApp
    from syndicator.store import Store

    config = load_config(instance / "config" / "syndicator.toml")
    store = Store(config.store.url)
    sent: list[dict[str, object]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    try:
        app = FeedApp(config, store, Catalogs(config.publish.locales_dir))
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/status",
            "headers": [],
            "client": ("203.0.113.9", 5),
        }
        asyncio.run(app(scope, receive, send))
    finally:
        store.close()
    assert sent[0]["status"] == 403
    assert b"loopback" in bytes(sent[1]["body"])  # type: ignore[arg-type]


def test_browsers_get_feeds_they_can_style_and_the_landing_page(instance: Path) -> None:
    """A browser (Accept: text/html) gets application/xml, so it applies feed.xsl; readers get the feed type."""
    config = load_config(instance / "config" / "syndicator.toml")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    with builtin_server(config) as server:
        for path, feed_type in (
            ("/feeds/fr/rss.xml", "application/rss+xml"),
            ("/feeds/ar/atom.xml", "application/atom+xml"),
        ):
            reader = fetch(
                server.url, path, headers={"Accept": "application/rss+xml, application/atom+xml, */*"}
            )
            shown = fetch(server.url, path, headers={"Accept": browser})
            assert reader.headers["content-type"] == f"{feed_type}; charset=utf-8"
            assert shown.headers["content-type"] == "application/xml; charset=utf-8"
            assert shown.body == reader.body and shown.headers["etag"] == reader.headers["etag"]
            assert "Accept" in [v.strip() for v in shown.headers["vary"].split(",")]
            assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in shown.body
        assert (
            fetch(server.url, "/feeds/fr/feed.json", headers={"Accept": browser})
            .headers["content-type"]
            .startswith("application/feed+json")
        )
        landing = fetch(server.url, "/feeds/")
        assert landing.status == 200 and b'href="index.opml"' in landing.body
        # A wrong address is no dead end: the answer says where the feeds are, and that place answers.
        lost = fetch(server.url, "/feeds/es/")
        assert lost.status == 404 and b"landing page, /" in lost.body
        home = fetch(server.url, "/")
        assert home.status in (301, 302, 307, 308) or b'href="index.opml"' in home.body
