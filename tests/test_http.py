"""syndicator.http against a real server on 127.0.0.1 that misbehaves on purpose (no mocks of requests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator import __version__
from syndicator.http import FetchError, HttpClient, HttpOptions, Validators, download, parse_retry_after
from tests.support.upstream import HANGS, Reply, Upstream, fixture

FAST = HttpOptions(
    connect_timeout=2, read_timeout=2, retries=2, backoff=0.01, max_wait=2, max_bytes=1_000_000
)


class Sleeps:
    """Records the waits the client asks for instead of sleeping: tests stay quick."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(sleeps: Sleeps | None = None, **changes: object) -> HttpClient:
    options = HttpOptions(**{**FAST.__dict__, **changes})  # type: ignore[arg-type]
    return HttpClient(options, sleep=sleeps or Sleeps())


def test_identifying_user_agent_and_body(upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("feed.xml"))
    resp = client(contact="https://news.example.org/").get(upstream.url("/feed.xml"))
    assert resp.status == 200 and b"Harbour bridge" in resp.content
    agent = upstream.hits("/feed.xml")[0].headers["user-agent"]
    assert f"Syndicator/{__version__}" in agent and "https://news.example.org/" in agent


def test_slow_server_times_out_after_the_retries(upstream: Upstream) -> None:
    upstream.set("/slow", Reply(delay=HANGS, body=b"late"))
    sleeps = Sleeps()
    with pytest.raises(FetchError) as err:
        client(sleeps).get(upstream.url("/slow"))
    assert "no response within 2s" in str(err.value) and upstream.url("/slow") in str(err.value)
    assert err.value.transient
    assert len(upstream.hits("/slow")) == 3  # the first try and two retries
    assert len(sleeps.waits) == 2


def test_500_then_success_is_retried_with_growing_jittered_waits(upstream: Upstream) -> None:
    upstream.set("/flaky", Reply(status=500), Reply(status=503), Reply(body=b"ok"))
    sleeps = Sleeps()
    resp = client(sleeps, backoff=0.01).get(upstream.url("/flaky"))
    assert resp.content == b"ok"
    first, second = sleeps.waits
    assert 0.01 <= first <= 0.02 and 0.02 <= second <= 0.04  # base·2^n plus up to as much jitter


def test_429_retry_after_is_respected(upstream: Upstream) -> None:
    upstream.set("/busy", Reply(status=429, headers={"Retry-After": "1"}), Reply(body=b"ok"))
    sleeps = Sleeps()
    assert client(sleeps).get(upstream.url("/busy")).content == b"ok"
    assert sleeps.waits == [1.0]


def test_429_with_a_long_retry_after_gives_up_and_says_when(upstream: Upstream) -> None:
    upstream.set("/busy", Reply(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(FetchError) as err:
        client().get(upstream.url("/busy"))
    assert err.value.retry_after == 3600
    assert "HTTP 429" in str(err.value) and "Retry-After: 3600s" in str(err.value)
    assert len(upstream.hits("/busy")) == 1


def test_404_is_not_retried(upstream: Upstream) -> None:
    with pytest.raises(FetchError) as err:
        client().get(upstream.url("/gone"))
    assert "HTTP 404" in str(err.value) and not err.value.transient
    assert len(upstream.hits("/gone")) == 1


def test_conditional_get_honours_304(upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("feed.xml", etag='"v1"', last_modified="Sun, 01 Mar 2026 00:00:00 GMT"))
    http = client()
    first = http.get(upstream.url("/feed.xml"))
    assert first.validators == Validators('"v1"', "Sun, 01 Mar 2026 00:00:00 GMT")
    second = http.get(upstream.url("/feed.xml"), first.validators)
    assert second.not_modified and second.content == b""
    sent = upstream.hits("/feed.xml")[1].headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Sun, 01 Mar 2026 00:00:00 GMT"


def test_truncated_body_is_an_error_not_half_a_feed(upstream: Upstream) -> None:
    upstream.set("/cut", fixture("feed.xml", truncate_at=200))
    with pytest.raises(FetchError) as err:
        client(retries=0).get(upstream.url("/cut"))
    assert err.value.transient
    assert "truncated" in str(err.value) or "connection closed" in str(err.value)


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "streamed"])
def test_50_mb_body_is_cut_at_the_cap(upstream: Upstream, declare_length: bool) -> None:
    upstream.set("/huge", Reply(filler=50_000_000, declare_length=declare_length))
    with pytest.raises(FetchError) as err:
        client(max_bytes=1_000_000).get(upstream.url("/huge"))
    assert "larger than http.max_bytes (1000000 bytes)" in str(err.value)
    assert not err.value.transient  # retrying would only download it again
    assert upstream.sent.get("/huge", 0) < 50_000_000


def test_redirect_loop_stops_at_the_limit(upstream: Upstream) -> None:
    upstream.set("/a", Reply(status=302, headers={"Location": "/b"}))
    upstream.set("/b", Reply(status=302, headers={"Location": "/a"}))
    with pytest.raises(FetchError) as err:
        client(max_redirects=3).get(upstream.url("/a"))
    assert "more than 3 redirects" in str(err.value)


def test_redirect_within_the_limit_reports_the_final_url(upstream: Upstream) -> None:
    upstream.set("/old", Reply(status=301, headers={"Location": "/new"}))
    upstream.set("/new", Reply(body=b"here"))
    resp = client().get(upstream.url("/old"))
    assert resp.url == upstream.url("/new") and resp.content == b"here"


def test_connection_refused_names_the_url() -> None:
    with pytest.raises(FetchError) as err:
        client(retries=0).get("http://127.0.0.1:9/feed.xml")
    assert "http://127.0.0.1:9/feed.xml" in str(err.value) and "cannot connect" in str(err.value)


def test_download_is_atomic_and_capped(upstream: Upstream, tmp_path: Path) -> None:
    upstream.set("/model", Reply(body=b"m" * 300_000, content_type="application/octet-stream"))
    seen: list[int] = []
    dest = download(
        upstream.url("/model"), tmp_path / "m.bin", timeout=2, max_bytes=1_000_000,
        progress=lambda done, total: seen.append(done),
    )  # fmt: skip
    assert dest.read_bytes() == b"m" * 300_000 and seen[-1] == 300_000
    upstream.set("/huge", Reply(filler=5_000_000, declare_length=False))
    with pytest.raises(FetchError):
        download(upstream.url("/huge"), tmp_path / "h.bin", timeout=2, max_bytes=1_000_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]  # no partial file left


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
