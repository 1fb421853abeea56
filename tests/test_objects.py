"""Feeds on object storage, against a real S3 endpoint (moto's server as a subprocess, tests/support/s3.py).

The writer seam's contract is checked on every writer (folder, memory, S3); then what only S3 has: headers
stored per object, unchanged objects left alone (counted in moto's own request log), errors that name the
bucket and say what to do, retries, and a failed PUT that leaves the old object and the store's publish mark
as they were. The whole pipeline publishes into a bucket, feedparser reads what is there, and the built-in
server and nginx (`syndicator nginx-config` for an s3:// target) serve it.
"""

from __future__ import annotations

import errno
import gzip
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicator.cli import main
from syndicator.config import Config, load_config
from syndicator.errors import ConfigError
from syndicator.objectstore import ObjectStore, ObjectStoreError, S3Options
from syndicator.publish.media import MEDIA_CACHE_CONTROL
from syndicator.publish.objects import DIGEST, ObjectWriter, object_writer
from syndicator.publish.writer import (
    UNCHANGED,
    FeedSource,
    FeedWriter,
    LocalFolderWriter,
    MemoryFeedWriter,
    Stored,
    make_writer,
)
from syndicator.store import Store
from tests.support.edits import replaced
from tests.support.s3 import FaultProxy, S3Bucket
from tests.support.servers import builtin_server, fetch, nginx_binary, nginx_server

FEEDS = ("rss.xml", "atom.xml", "feed.json")


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _writer(s3: S3Bucket, endpoint: str = "", retries: int = 0, **kwargs: Any) -> ObjectWriter:
    store = ObjectStore(
        S3Options(s3.name, endpoint=endpoint or s3.server.endpoint, timeout=5, retries=retries)
    )
    return ObjectWriter(store, s3.prefix, **{"max_age": 300, "archive_max_age": 3600, **kwargs})


# -- the seam's contract, on every writer ------------------------------------------------------------------


@pytest.fixture(params=["folder", "memory", "s3"])
def any_writer(request: pytest.FixtureRequest, tmp_path: Path) -> FeedWriter:
    if request.param == "folder":
        return LocalFolderWriter(tmp_path / "feeds")
    if request.param == "memory":
        return MemoryFeedWriter()
    return _writer(request.getfixturevalue("s3"))


def test_every_writer_keeps_the_same_contract(any_writer: FeedWriter) -> None:
    told: list[str] = []
    assert isinstance(any_writer, FeedWriter) and isinstance(any_writer, FeedSource)
    any_writer.listeners.append(told.append)
    assert any_writer.list() == [] and any_writer.read("fr/rss.xml") is None
    assert any_writer.write("fr/rss.xml", b"<rss>1</rss>") is True
    assert any_writer.write("./fr//rss.xml", b"<rss>1</rss>") is False  # the same path, the same bytes
    assert any_writer.write("fr/archive/1/atom.xml", b"<feed/>") is True
    assert any_writer.write("index.html", b"<html/>") is True
    assert any_writer.read("fr/rss.xml") == b"<rss>1</rss>"
    assert any_writer.list() == ["fr/archive/1/atom.xml", "fr/rss.xml", "index.html"]
    assert any_writer.list("fr/archive/") == ["fr/archive/1/atom.xml"]
    assert told == ["fr/rss.xml", "fr/archive/1/atom.xml", "index.html"]  # changes only, normalized

    loaded = any_writer.load("fr/rss.xml")
    assert isinstance(loaded, Stored) and loaded.data == b"<rss>1</rss>" and loaded.modified > 0
    assert any_writer.load("fr/rss.xml", loaded.version) is UNCHANGED
    assert any_writer.write("fr/rss.xml", b"<rss>2</rss>") is True
    again = any_writer.load("fr/rss.xml", loaded.version)
    assert isinstance(again, Stored) and again.data == b"<rss>2</rss>" and again.version != loaded.version
    assert any_writer.load("fr/nothing.xml") is None and any_writer.load("../x") is None

    assert any_writer.delete("fr/archive/1/atom.xml") is True
    assert any_writer.delete("fr/archive/1/atom.xml") is False  # deleting twice is fine
    assert any_writer.read("fr/archive/1/atom.xml") is None
    assert any_writer.list() == ["fr/rss.xml", "index.html"]
    assert told[-2:] == ["fr/rss.xml", "fr/archive/1/atom.xml"]
    for bad in ("../x.xml", "/etc/passwd", "", "fr\\rss.xml"):
        with pytest.raises(ValueError):
            any_writer.write(bad, b"x")
        with pytest.raises(ValueError):
            any_writer.delete(bad)


# -- what only object storage has --------------------------------------------------------------------------


def test_each_object_carries_its_headers(s3: S3Bucket) -> None:
    writer = _writer(s3)
    xml = b"<rss>" + b"x" * 400 + b"</rss>"
    cases = {
        "fr/rss.xml": ("application/rss+xml; charset=utf-8", "public, max-age=300", None),
        "fr/atom.xml": ("application/atom+xml; charset=utf-8", "public, max-age=300", None),
        "fr/feed.json": ("application/feed+json; charset=utf-8", "public, max-age=300", None),
        "fr/archive/7/atom.xml": ("application/atom+xml; charset=utf-8", "public, max-age=3600", None),
        "fr/archive/7/feed.json.gz": ("application/feed+json; charset=utf-8", "public, max-age=3600", "gzip"),
        "fr/newsroom/a.html": ("text/html; charset=utf-8", "public, max-age=300", None),
        "index.opml": ("text/x-opml; charset=utf-8", "public, max-age=300", None),
        "fr/feed.xsl": ("application/xslt+xml; charset=utf-8", "public, max-age=300", None),
        "fr/rss.xml.gz": ("application/rss+xml; charset=utf-8", "public, max-age=300", "gzip"),
        "fr/archive/7/notes.bin": ("application/octet-stream", "public, max-age=300", None),
        # Content-addressed images (publish/media.py): their own type, no charset, a year.
        "media/0123456789abcdef0123456789abcdef.webp": ("image/webp", MEDIA_CACHE_CONTROL, None),
        "media/lead.png": ("application/octet-stream", "public, max-age=300", None),  # not one of ours
    }
    for rel in cases:
        writer.write(rel, gzip.compress(xml) if rel.endswith(".gz") else xml)
    for rel, (ctype, cache, encoding) in cases.items():
        got = s3.get(rel)
        assert (got["ContentType"], got["CacheControl"], got.get("ContentEncoding")) == (
            ctype,
            cache,
            encoding,
        ), rel
    # boto3 undoes nothing: a .gz object holds the gzip bytes, for a proxy or CDN to pass on as they are.
    assert gzip.decompress(s3.get("fr/rss.xml.gz")["data"]) == xml


def test_unchanged_objects_are_not_rewritten_but_new_headers_are(s3: S3Bucket) -> None:
    writer = _writer(s3)
    assert writer.write("fr/atom.xml", b"<feed>1</feed>")
    first = s3.get("fr/atom.xml")
    puts = s3.count("PUT")
    for _ in range(3):
        assert writer.write("fr/atom.xml", b"<feed>1</feed>") is False
    assert s3.count("PUT") == puts  # moto saw no PUT at all
    same = s3.get("fr/atom.xml")
    assert (same["ETag"], same["LastModified"]) == (first["ETag"], first["LastModified"])
    # One request per unchanged file, and a bodiless one: a HEAD, never a GET.
    assert writer.store.requests["HeadObject"] == 4 and writer.store.requests["GetObject"] == 0
    # A setting that changes the headers (serve.max_age) rewrites the object, once.
    longer = _writer(s3, max_age=600)
    assert longer.write("fr/atom.xml", b"<feed>1</feed>") is True
    assert longer.write("fr/atom.xml", b"<feed>1</feed>") is False
    assert s3.get("fr/atom.xml")["CacheControl"] == "public, max-age=600"
    # An object someone else wrote (no hash of ours) is replaced by what we publish.
    s3.put("fr/rss.xml", b"<rss>by hand</rss>", ContentType="text/plain")
    assert writer.write("fr/rss.xml", b"<rss>by hand</rss>") is True
    assert s3.get("fr/rss.xml")["Metadata"][DIGEST]


def test_errors_name_the_object_and_say_what_to_do(
    s3: S3Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = ObjectWriter(
        ObjectStore(S3Options("no-such-bucket-here", endpoint=s3.server.endpoint, timeout=5, retries=0)),
        "feeds", max_age=300, archive_max_age=300,
    )  # fmt: skip
    with pytest.raises(ObjectStoreError) as caught:
        missing.write("fr/rss.xml", b"x")
    assert caught.value.errno == errno.ENOENT
    assert "s3://no-such-bucket-here/feeds/fr/rss.xml" in str(caught.value)
    assert "does not exist" in str(caught.value) and "create the bucket" in str(caught.value)
    with pytest.raises(ObjectStoreError, match="no-such-bucket-here"):
        missing.list()

    closed = FaultProxy(s3.server.endpoint, lambda method, path: "")
    endpoint = closed.endpoint
    closed.close()  # nothing listens there any more
    unreachable = _writer(s3, endpoint=endpoint)
    with pytest.raises(ObjectStoreError) as caught:
        unreachable.write("fr/rss.xml", b"x")
    assert caught.value.errno == errno.ECONNREFUSED
    assert endpoint in str(caught.value) and "publish.s3_endpoint" in str(caught.value)

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to find here
    with pytest.raises(ObjectStoreError) as caught:
        _writer(s3).write("fr/rss.xml", b"x")
    assert caught.value.errno == errno.EACCES
    assert "no AWS credentials" in str(caught.value) and "AWS_ACCESS_KEY_ID" in str(caught.value)
    assert "syndicator.toml" in str(caught.value)  # says where they must not go


@pytest.fixture
def faults(s3: S3Bucket) -> Iterator[dict[str, str]]:
    """A proxy in front of moto that fails PUTs of the keys (suffixes) in the dict: {"atom.xml": "500"}."""
    rules: dict[str, str] = {}

    def rule(method: str, path: str) -> str:
        if method != "PUT":
            return ""
        key = path.split("?", 1)[0]
        for suffix, action in list(rules.items()):
            if key.endswith("/" + suffix):
                if action.endswith("-once"):
                    del rules[suffix]
                    return action.removesuffix("-once")
                return action
        return ""

    proxy = FaultProxy(s3.server.endpoint, rule)
    rules["__endpoint__"] = proxy.endpoint
    try:
        yield rules
    finally:
        proxy.close()


def test_failed_puts_are_retried_then_reported_and_the_old_object_stays_whole(
    s3: S3Bucket, faults: dict[str, str]
) -> None:
    writer = _writer(s3, endpoint=faults["__endpoint__"], retries=2)
    assert writer.write("fr/atom.xml", b"<feed>old</feed>")
    # One 500, one dropped connection: the standard retry mode gets through both.
    faults["atom.xml"] = "500-once"
    assert writer.write("fr/atom.xml", b"<feed>new</feed>")
    faults["atom.xml"] = "drop-once"
    assert writer.write("fr/atom.xml", b"<feed>newer</feed>")
    assert s3.get("fr/atom.xml")["data"] == b"<feed>newer</feed>"
    # Failing every time: reported after retries + 1 attempts, naming the object; the old object is whole.
    faults["atom.xml"] = "500"
    puts = writer.store.requests["PutObject"]
    with pytest.raises(ObjectStoreError) as caught:
        writer.write("fr/atom.xml", b"<feed>lost</feed>")
    assert writer.store.requests["PutObject"] - puts == 3
    assert f"s3://{s3.name}/feeds/fr/atom.xml" in str(caught.value) and "3 attempt(s) writing" in str(
        caught.value
    )
    assert s3.get("fr/atom.xml")["data"] == b"<feed>newer</feed>"


# -- the pipeline publishing into a bucket -----------------------------------------------------------------


def _published_files(s3: S3Bucket) -> dict[str, bytes]:
    return {rel: s3.get(rel)["data"] for rel in s3.relpaths()}


def test_the_pipeline_publishes_to_s3_and_rewrites_only_what_changed(
    s3: S3Bucket, make_instance: Callable[..., Path]
) -> None:
    root = make_instance(
        targets=("fr", "ar"),
        engine="pseudo",
        extra=s3.publish_toml() + "\n[serve]\nport = 0\ngzip_files = true\n",
    )
    assert _cli(root, "run", "--once") == 0
    files = _published_files(s3)
    # The same tree the folder writer makes from the same store, byte for byte.
    assert _cli(root, "--set", "publish.target=folder", "publish", "--rebuild") == 0
    on_disk = {
        p.relative_to(root / "feeds").as_posix(): p.read_bytes()
        for p in (root / "feeds").rglob("*")
        if p.is_file()
    }
    assert files == on_disk
    for lang in ("en", "fr", "ar"):
        for name in FEEDS:
            rel = f"{lang}/{name}"
            parsed = feedparser.parse(files[rel]) if name != "feed.json" else None
            assert parsed is None or (not parsed.bozo and len(parsed.entries) == 3), (
                rel,
                parsed and parsed.bozo_exception,
            )
            got = s3.get(rel)
            assert got["ContentType"].startswith(
                ("application/rss+xml", "application/atom+xml", "application/feed+json")
            )
            assert got["CacheControl"] == "public, max-age=300" and "ContentEncoding" not in got
            copy = s3.get(rel + ".gz")
            assert copy["ContentEncoding"] == "gzip" and copy["ContentType"] == got["ContentType"]
            assert gzip.decompress(copy["data"]) == got["data"]
    # Nothing changed: nothing is written (moto's log), whatever runs again.
    puts = s3.count("PUT")
    assert _cli(root, "run", "--once") == 0
    assert s3.count("PUT") == puts
    # One article changes: only the documents showing it are written, and each once.
    article = root / "articles" / "2026-03-01-harbour-bridge.md"
    article.write_text(
        replaced(article.read_text(encoding="utf-8"), "six weeks", "ten weeks"), encoding="utf-8"
    )
    assert _cli(root, "run", "--once") == 0
    written = [r.path.split(f"/{s3.name}/feeds/", 1)[1] for r in s3.requests("PUT")[puts:]]
    assert len(written) == len(set(written))
    assert {"fr/atom.xml", "fr/newsroom/harbour-bridge.html", "en/rss.xml"} <= set(written)
    assert not {"fr/newsroom/night-market.html", "fr/feed.xsl", "index.opml"} & set(written)
    assert b"ten weeks" in s3.get("en/newsroom/harbour-bridge.html")["data"]


def test_requests_per_publish(s3: S3Bucket, make_instance: Callable[..., Path]) -> None:
    """What docs/scale-out.md says a publish costs, counted in moto's log."""
    root = make_instance(targets=("fr", "ar"), engine="pseudo", extra=s3.publish_toml())
    assert _cli(root, "run", "--once") == 0
    files = len(s3.relpaths())
    before = {m: s3.count(m) for m in ("HEAD", "GET", "PUT")}
    assert _cli(root, "run", "--once") == 0  # nothing changed
    # Each process's first publish checks the tree against the store (publish/audit.py): it reads each
    # language's current documents (and its open archive page, the feed.xsl they name), a fixed cost per language
    # that does not grow with the archive.
    startup = s3.count("GET") - before["GET"]
    assert 0 < startup <= 10 * 3
    assert {m: s3.count(m) - n for m, n in before.items()} == {"HEAD": 3 + 3, "GET": startup, "PUT": 0}
    before = {m: s3.count(m) for m in ("HEAD", "GET", "PUT")}
    assert _cli(root, "publish", "--rebuild") == 0  # everything rebuilt, the same bytes
    assert {m: s3.count(m) - n for m, n in before.items()} == {"HEAD": files, "GET": startup, "PUT": 0}
    # With gzip copies: one more HEAD per copy, still no GET (the copy's hash of its source is compared).
    assert _cli(root, "--set", "serve.gzip_files=true", "run", "--once") == 0  # settings changed: all rebuilt
    files = len(s3.relpaths())
    before = {m: s3.count(m) for m in ("HEAD", "GET", "PUT")}
    assert _cli(root, "--set", "serve.gzip_files=true", "publish", "--rebuild") == 0
    assert {m: s3.count(m) - n for m, n in before.items()} == {"HEAD": files, "GET": startup, "PUT": 0}


def test_a_stale_gzip_copy_is_mended_without_reading_it(
    s3: S3Bucket, make_instance: Callable[..., Path]
) -> None:
    root = make_instance(
        targets=("fr",), engine="pseudo", extra=s3.publish_toml() + "\n[serve]\ngzip_files = true\n"
    )
    assert _cli(root, "run", "--once") == 0
    good = s3.get("fr/atom.xml.gz")["data"]
    # What a crash between writing a file and its copy leaves: a copy of other bytes.
    config = load_config(root / "config" / "syndicator.toml")
    object_writer(config).write("fr/atom.xml.gz", gzip.compress(b"<feed>an older version</feed>"))
    gets = s3.count("GET")
    assert _cli(root, "publish") == 0  # nothing changed: only the start-up check reads (the current feeds)
    startup = s3.count("GET") - gets
    object_writer(config).write("fr/atom.xml.gz", gzip.compress(b"<feed>an older version</feed>"))
    gets = s3.count("GET")
    assert _cli(root, "publish", "--rebuild") == 0
    assert s3.get("fr/atom.xml.gz")["data"] == good
    assert s3.count("GET") == gets + 1 + startup  # the one GET above, and the start-up check: no copy is read


def test_a_failed_put_leaves_the_previous_feed_and_the_store_not_ahead(
    s3: S3Bucket, faults: dict[str, str], make_instance: Callable[..., Path]
) -> None:
    toml = s3.publish_toml(endpoint=faults["__endpoint__"], s3_retries="1")
    root = make_instance(targets=("fr",), engine="pseudo", extra=toml)
    assert _cli(root, "run", "--once") == 0
    before = s3.get("fr/atom.xml")["data"]
    config = load_config(root / "config" / "syndicator.toml")
    store = Store(config.store.url)
    try:
        mark = store.publish_mark("fr")
    finally:
        store.close()
    article = root / "articles" / "2026-03-01-harbour-bridge.md"
    article.write_text(
        replaced(article.read_text(encoding="utf-8"), "six weeks", "ten weeks"), encoding="utf-8"
    )
    faults["atom.xml"] = "500"
    assert _cli(root, "run", "--once") != 0  # the publish error is reported
    assert s3.get("fr/atom.xml")["data"] == before  # the previous object, whole
    store = Store(config.store.url)
    try:
        assert store.publish_mark("fr") == mark  # not ahead of what the bucket holds
        assert "fr/atom.xml" in store.states("publish_error:fr")["publish_error:fr"][0]
    finally:
        store.close()
    del faults["atom.xml"]
    assert _cli(root, "run", "--once") == 0  # the next cycle redoes it from the same mark
    assert b"ten weeks" in s3.get("fr/atom.xml")["data"]


# -- serving what is in the bucket -------------------------------------------------------------------------


@pytest.fixture
def published(s3: S3Bucket, make_instance: Callable[..., Path]) -> Config:
    root = make_instance(
        targets=("fr", "ar"), engine="pseudo",
        extra=s3.publish_toml() + '\n[serve]\nport = 0\ngzip_files = true\nrefresh = "1s"\n',
    )  # fmt: skip
    assert _cli(root, "run", "--once") == 0
    return load_config(root / "config" / "syndicator.toml")


def test_the_builtin_server_serves_the_bucket_and_sees_other_writers(s3: S3Bucket, published: Config) -> None:
    with builtin_server(published) as server:
        r = fetch(server.url, "/feeds/fr/atom.xml")
        assert r.status == 200 and r.body == s3.get("fr/atom.xml")["data"]
        assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert (
            fetch(server.url, "/feeds/fr/atom.xml", headers={"If-None-Match": r.headers["etag"]}).status
            == 304
        )
        assert fetch(server.url, "/feeds/fr/atom.xml.gz").status == 404  # copies are not URLs
        assert fetch(server.url, "/feeds/").status == 200  # index.html from the bucket
        assert fetch(server.url, "/feeds/missing.xml").status == 404
        redirect = fetch(server.url, "/feeds/feed.atom", headers={"Accept-Language": "ar"})
        assert redirect.status == 302 and redirect.headers["location"] == "/feeds/ar/atom.xml"
        # Another process publishes (its own writer): seen within serve.refresh, by a conditional GET.
        s3.put("fr/atom.xml", b"<feed>elsewhere</feed>", ContentType="application/atom+xml")
        deadline = time.monotonic() + 60  # a generous poll, not a timed assertion
        while fetch(server.url, "/feeds/fr/atom.xml").body != b"<feed>elsewhere</feed>":
            assert time.monotonic() < deadline, "the server never saw the new object"
            time.sleep(0.2)
        # Unchanged objects are revalidated without being transferred again (If-None-Match → 304 from S3).
        revalidated = [r for r in s3.requests("GET") if r.status == 304]
        time.sleep(1.1)
        fetch(server.url, "/feeds/fr/atom.xml")
        assert len([r for r in s3.requests("GET") if r.status == 304]) == len(revalidated) + 1


def test_an_unreachable_bucket_is_a_503_not_a_404(s3: S3Bucket, published: Config) -> None:
    closed = FaultProxy(s3.server.endpoint, lambda method, path: "")
    closed.close()  # nothing listens there any more
    config = load_config(
        published.file,
        overrides={"publish.s3_endpoint": closed.endpoint, "publish.s3_retries": "0", "serve.port": "0"},
    )
    with builtin_server(config) as server:
        r = fetch(server.url, "/feeds/fr/atom.xml")
        assert (r.status, r.headers["retry-after"], r.headers["cache-control"]) == (503, "5", "no-store")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert fetch(server.url, "/feeds/feed.atom").status == 503
        assert fetch(server.url, "/healthz").status == 200  # the server itself is fine


def test_nginx_in_front_of_the_bucket_serves_what_the_builtin_server_does(
    s3: S3Bucket, published: Config, tmp_path: Path
) -> None:
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (Debian package nginx; scripts/apt-packages.txt)")
    s3.make_public()
    with (
        builtin_server(published) as builtin,
        nginx_server(published, tmp_path / "nginx", builtin.url) as base,
    ):
        for rel in (
            "fr/atom.xml",
            "ar/rss.xml",
            "en/feed.json",
            "fr/newsroom/harbour-bridge.html",
            "index.opml",
        ):
            via_nginx = fetch(base, f"/feeds/{rel}")
            direct = fetch(builtin.url, f"/feeds/{rel}")
            assert via_nginx.status == direct.status == 200, rel
            assert via_nginx.body == direct.body, rel
            for header in (
                "content-type",
                "cache-control",
                "x-content-type-options",
                "content-security-policy",
            ):
                assert via_nginx.headers.get(header) == direct.headers.get(header), (rel, header)
            assert not [h for h in via_nginx.headers if h.startswith("x-amz")], via_nginx.headers
            again = fetch(base, f"/feeds/{rel}", headers={"If-None-Match": via_nginx.headers["etag"]})
            assert again.status == 304, rel
        zipped = fetch(base, "/feeds/fr/atom.xml", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
        assert gzip.decompress(zipped.body) == fetch(base, "/feeds/fr/atom.xml").body
        refused = fetch(base, "/feeds/fr/atom.xml", headers={"Accept-Encoding": "gzip;q=0, br"})
        assert "content-encoding" not in refused.headers
        s3.put("fr/tiny.txt", b"tiny", ContentType="text/plain; charset=utf-8")  # too small for a .gz copy
        small = fetch(base, "/feeds/fr/tiny.txt", headers={"Accept-Encoding": "gzip"})
        assert (small.status, small.body, small.headers.get("content-encoding")) == (200, b"tiny", None)
        assert fetch(base, "/feeds/").body == fetch(builtin.url, "/feeds/").body
        for path, status in (
            ("/feeds/missing.xml", 404),
            ("/feeds/fr/atom.xml.gz", 404),
            ("/feeds/../secret", 404),
            ("/feeds/.hidden", 404),
        ):
            r = fetch(base, path)
            assert r.status == status, path
            assert r.headers.get("x-content-type-options") == "nosniff", path
        assert fetch(base, "/feeds/fr/atom.xml", method="POST").status == 405
        assert fetch(base, "/feeds/feed.atom", headers={"Accept-Language": "fr"}).status == 302


# -- settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("s3://KEY:SECRET@bucket/feeds", "credentials"),
        ("s3://Bad_Bucket/feeds", "not a bucket name"),
        ("s3://bucket/../feeds", "plain folder names"),
        ("https://bucket/feeds", "not a publish target"),
    ],
)
def test_targets_are_validated(make_instance: Callable[..., Path], value: str, message: str) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    with pytest.raises(ConfigError, match=message):
        load_config(root / "config" / "syndicator.toml", overrides={"publish.target": value})


def test_endpoint_settings_and_the_writer_they_make(make_instance: Callable[..., Path], s3: S3Bucket) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    file = root / "config" / "syndicator.toml"
    with pytest.raises(ConfigError, match="credentials"):
        load_config(file, overrides={"publish.s3_endpoint": "http://user:pw@minio:9000"})
    with pytest.raises(ConfigError, match="scheme, host and port"):
        load_config(file, overrides={"publish.s3_endpoint": "http://minio:9000/bucket"})
    config = load_config(
        file,
        overrides={
            "publish.target": f"s3://{s3.name}/a/b/",
            "publish.s3_endpoint": s3.server.endpoint + "/",
            "publish.s3_timeout": "7s",
            "publish.s3_retries": "2",
        },
    )
    assert config.publish.target == f"s3://{s3.name}/a/b" and config.publish.location == config.publish.target
    writer = make_writer(config)
    assert isinstance(writer, ObjectWriter) and writer.prefix == "a/b"
    client_config = writer.store.client.meta.config
    assert (client_config.connect_timeout, client_config.read_timeout) == (7.0, 7.0)
    assert client_config.retries["total_max_attempts"] == 3
    assert (
        writer.write("x.xml", b"<x/>")
        and s3.relpaths() == []
        and s3.client.get_object(Bucket=s3.name, Key="a/b/x.xml")
    )
    assert isinstance(
        object_writer(replace(config, publish=replace(config.publish, target=f"s3://{s3.name}"))),
        ObjectWriter,
    )
    assert re.search(
        r"publish\.s3_endpoint", (Path(__file__).parents[1] / "docs" / "settings.md").read_text()
    )
