"""One table of HTTP checks run against the built-in server and against nginx with `syndicator nginx-config`.

Both serve the same published instance (real pipeline run, pseudo engine) on 127.0.0.1.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.publish.media import MEDIA_CACHE_CONTROL
from syndicator.publish.writer import LocalFolderWriter
from syndicator.serve.headers import FEED_POLICY, PAGE_POLICY, STATUS_POLICY
from tests.conftest import DATA, REPO, write_config
from tests.support.servers import (
    builtin_server,
    fetch,
    nginx_binary,
    nginx_server,
    parse_head,
    raw_exchange,
    split_responses,
)

SECRET = "secret-outside-the-feeds-folder"
# A published image as the publisher names it (media/<hash>.<ext>); the bytes need only start as a PNG does.
IMAGE = "media/" + "0123456789abcdef" * 2 + ".png"
IMAGE_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published instance with feeds, pages, an OPML and an XSL file, and traps outside feeds/."""
    root = tmp_path_factory.mktemp("served") / "instance"
    (root / "articles").mkdir(parents=True)
    for src in sorted((DATA / "articles").glob("*.md")):
        shutil.copy(src, root / "articles" / src.name)
    shutil.copytree(REPO / "locales", root / "locales")
    # Two entries per feed: the third article goes to archive page 1 (RFC 5005), served with its own max-age.
    extra = "\n[serve]\ngzip_files = true\n\n[publish]\nmax_entries = 2\n"
    write_config(root, targets=("fr", "ar"), engine="pseudo", extra=extra)
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    feeds = LocalFolderWriter(root / "feeds")
    feeds.write("extra/list.opml", b'<?xml version="1.0"?>\n<opml version="2.0"><body/></opml>\n' * 10)
    feeds.write("extra/style.xsl", b'<?xml version="1.0"?>\n<xsl:stylesheet version="1.0"/>\n' * 10)
    feeds.write(IMAGE, IMAGE_BYTES)
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    os.symlink(root / "secret.txt", root / "feeds" / "en" / "leak.xml")
    os.symlink(root, root / "feeds" / "up")
    return root


@pytest.fixture(scope="module", params=["builtin", "nginx"])
def server(
    request: pytest.FixtureRequest, instance: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of the server under test; nginx proxies redirects to a built-in server."""
    config = load_config(instance / "config" / "syndicator.toml", overrides={"serve.port": "0"})
    with builtin_server(config) as builtin:
        if request.param == "builtin":
            yield builtin.url
            return
        if nginx_binary() is None:
            pytest.skip("nginx is not installed (Debian package nginx; scripts/apt-packages.txt)")
        with nginx_server(config, tmp_path_factory.mktemp("nginx"), builtin.url) as base:
            yield base


def _file(instance: Path, rel: str) -> bytes:
    return (instance / "feeds" / rel).read_bytes()


@pytest.mark.parametrize(
    ("rel", "media"),
    [
        ("en/rss.xml", "application/rss+xml"),
        ("fr/atom.xml", "application/atom+xml"),
        ("ar/feed.json", "application/feed+json"),
        ("en/newsroom/harbour-bridge.html", "text/html"),
        ("extra/list.opml", "text/x-opml"),
        ("extra/style.xsl", "application/xslt+xml"),
    ],
)
def test_media_types_and_full_response(server: str, instance: Path, rel: str, media: str) -> None:
    r = fetch(server, f"/feeds/{rel}")
    assert r.status == 200
    assert r.headers["content-type"].replace(" ", "").lower() == f"{media};charset=utf-8"
    assert r.body == _file(instance, rel)
    assert r.headers["etag"].startswith('"')  # strong
    assert email.utils.parsedate_to_datetime(r.headers["last-modified"])
    assert "max-age=300" in r.headers["cache-control"]


@pytest.mark.parametrize(
    ("rel", "media"),
    [
        ("fr/archive/1/rss.xml", "application/rss+xml"),
        ("en/archive/1/atom.xml", "application/atom+xml"),
        ("ar/archive/1/feed.json", "application/feed+json"),
    ],
)
def test_archive_pages_may_be_cached_longer(server: str, instance: Path, rel: str, media: str) -> None:
    r = fetch(server, f"/feeds/{rel}", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers["content-type"].replace(" ", "").lower() == f"{media};charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=3600"  # serve.archive_max_age
    assert gzip.decompress(r.body) == _file(instance, rel)
    assert fetch(server, "/feeds/fr/rss.xml").headers["cache-control"] == "public, max-age=300"
    assert r.headers.get("x-content-type-options") == "nosniff"


def test_published_images_are_typed_and_cached_for_a_year(server: str, instance: Path) -> None:
    r = fetch(server, f"/feeds/{IMAGE}", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers["content-type"] == "image/png"  # no charset: not text
    assert (
        r.headers["cache-control"] == MEDIA_CACHE_CONTROL
    )  # content-addressed: its name never changes meaning
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert r.headers.get("content-encoding") is None  # images are compressed already
    assert r.body == IMAGE_BYTES


def test_if_none_match_gives_304(server: str) -> None:
    first = fetch(server, "/feeds/fr/atom.xml")
    again = fetch(server, "/feeds/fr/atom.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["etag"] == first.headers["etag"]
    other = fetch(server, "/feeds/fr/atom.xml", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


def test_if_modified_since(server: str) -> None:
    first = fetch(server, "/feeds/en/rss.xml")
    same = fetch(server, "/feeds/en/rss.xml", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert same.status == 304 and same.body == b""
    old = email.utils.formatdate(0, usegmt=True)
    assert fetch(server, "/feeds/en/rss.xml", headers={"If-Modified-Since": old}).status == 200


def test_gzip_and_vary(server: str, instance: Path) -> None:
    r = fetch(server, "/feeds/en/atom.xml", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in r.headers["vary"].lower()
    assert gzip.decompress(r.body) == _file(instance, "en/atom.xml")
    again = fetch(
        server, "/feeds/en/atom.xml", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]}
    )
    assert again.status == 304
    plain = fetch(server, "/feeds/en/atom.xml")
    assert "content-encoding" not in plain.headers
    assert "accept-encoding" in plain.headers.get("vary", "").lower()


def test_head(server: str, instance: Path) -> None:
    r = fetch(server, "/feeds/en/feed.json", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert int(r.headers["content-length"]) == len(_file(instance, "en/feed.json"))
    assert r.headers["content-type"].startswith("application/feed+json")


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/../secret.txt",
        "/feeds/%2e%2e/secret.txt",
        "/feeds/en/..%2f..%2fsecret.txt",
        "/feeds/%2e%2e%2fsecret.txt",
        "/feeds//etc/passwd",
        "/feeds/en/leak.xml",
        "/feeds/up/secret.txt",
        "/feeds/up/config/syndicator.toml",
        "/secret.txt",
        "/feeds/fr/.atom.xml.abc123.tmp",
    ],
)
def test_nothing_outside_feeds(server: str, path: str) -> None:
    r = fetch(server, path)
    assert r.status in (400, 403, 404), (path, r.status)
    assert SECRET.encode() not in r.body and b"[site]" not in r.body


def test_feeds_folder_shows_the_landing_page_not_a_listing(server: str) -> None:
    r = fetch(server, "/feeds/")
    assert r.status in (200, 403, 404), r.status
    if r.status == 200:  # feeds/index.html, the landing page the publish stage writes
        assert b'href="index.opml"' in r.body and b"Index of" not in r.body


def test_language_redirect(server: str) -> None:
    r = fetch(server, "/feeds/feed.atom", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"})
    assert r.status in (302, 303)
    assert r.headers["location"].endswith("/feeds/fr/atom.xml")
    assert "accept-language" in r.headers["vary"].lower()
    assert (
        fetch(server, "/feeds/feed", headers={"Accept-Language": "de, ar;q=0.3"})
        .headers["location"]
        .endswith("/feeds/ar/rss.xml")
    )
    assert (
        fetch(server, "/feeds/feed.json", headers={"Accept-Language": "ja"})
        .headers["location"]
        .endswith("/feeds/en/feed.json")
    )


def test_status_page_is_served_to_loopback(server: str) -> None:
    r = fetch(server, "/status")  # nginx-config proxies it for 127.0.0.1 only, as /metrics
    assert r.status == 200
    assert r.headers["content-type"].replace(" ", "").lower() == "text/html;charset=utf-8"
    assert b"newsroom" in r.body


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "policy"),
    [
        ("GET", "/feeds/en/rss.xml", {"Accept": BROWSER}, 200, FEED_POLICY),
        ("GET", "/feeds/fr/atom.xml", {}, 200, FEED_POLICY),
        ("GET", "/feeds/ar/feed.json", {}, 200, None),
        ("GET", "/feeds/en/newsroom/harbour-bridge.html", {}, 200, PAGE_POLICY),
        ("GET", "/feeds/", {}, 200, PAGE_POLICY),
        ("GET", "/feeds/index.opml", {}, 200, None),
        ("GET", "/feeds/fr/feed.xsl", {}, 200, None),
        ("HEAD", "/feeds/en/newsroom/harbour-bridge.html", {}, 200, PAGE_POLICY),
        ("GET", "/feeds/feed.atom", {"Accept-Language": "fr"}, 302, None),
        ("GET", "/feeds/missing.xml", {}, 404, None),
        ("GET", "/nowhere", {}, 404, None),
        ("POST", "/feeds/en/rss.xml", {}, 405, None),
        ("GET", "/feeds/p/not-a-token/en/atom.xml", {}, 404, None),
        ("GET", "/healthz", {}, 200, None),
        ("GET", "/metrics", {}, 200, None),
        ("GET", "/status", {}, 200, STATUS_POLICY),
    ],
)
def test_every_response_says_nosniff_and_pages_carry_a_policy(
    server: str, method: str, path: str, headers: dict[str, str], status: int, policy: str | None
) -> None:
    r = fetch(server, path, method=method, headers=headers)
    assert r.status == status, (path, r.status)
    assert r.headers.get("x-content-type-options") == "nosniff", (path, r.headers)
    assert r.headers.get("content-security-policy") == policy, path
    if "etag" in r.headers:  # a published file: its 304 carries the same headers
        again = fetch(server, path, headers={**headers, "If-None-Match": r.headers["etag"]})
        assert again.status == 304, path
        assert again.headers.get("x-content-type-options") == "nosniff", path
        assert again.headers.get("content-security-policy") == policy, path


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /feeds/en/rss.xml HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        b"GET /feeds/en/rss.xml?" + b"q" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    ids=["malformed", "huge-header", "huge-url"],
)
def test_refusals_say_nosniff_too(server: str, request_bytes: bytes) -> None:
    status, headers = parse_head(raw_exchange(server, request_bytes))
    assert status in (400, 414, 431), status
    assert headers.get("x-content-type-options") == "nosniff"


def test_public_health_says_only_healthy(server: str) -> None:
    r = fetch(server, "/healthz")
    assert json.loads(r.body) == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/feeds"])
def test_the_root_leads_to_the_landing_page(server: str, path: str) -> None:
    r = fetch(server, path)
    assert r.status == 302, (path, r.status)
    assert r.headers["location"].endswith("/feeds/"), r.headers["location"]
    assert r.headers.get("x-content-type-options") == "nosniff"
    landing = fetch(server, "/feeds/")
    assert landing.status == 200 and b'href="index.opml"' in landing.body


def test_pipelined_requests_are_all_answered_in_order(server: str, instance: Path) -> None:
    """Many requests in one write (more than the built-in server parses ahead): every one answered, in order;
    the last asks to close, so the exchange ends."""
    paths = ["/feeds/en/rss.xml", "/feeds/fr/atom.xml", "/feeds/missing.xml", "/feeds/en/feed.json"] * 25
    methods = ["HEAD" if i % 7 == 3 else "GET" for i in range(len(paths))]
    data = b"".join(
        f"{method} {path} HTTP/1.1\r\nHost: x\r\n{'Connection: close' if i == len(paths) - 1 else 'X: y'}\r\n\r\n".encode()
        for i, (method, path) in enumerate(zip(methods, paths, strict=True))
    )
    responses = split_responses(raw_exchange(server, data), methods)
    assert [r.status for r in responses] == [404 if "missing" in p else 200 for p in paths]
    for response, path, method in zip(responses, paths, methods, strict=True):
        if method == "GET" and "missing" not in path:
            assert response.body == _file(instance, path.removeprefix("/feeds/")), path
