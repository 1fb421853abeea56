"""syndicator.http against a real server on 127.0.0.1 that misbehaves on purpose (no mocks of requests)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from syndicator import __version__
from syndicator.config import HttpConfig
from syndicator.http import FetchError, HttpClient, Validators, parse_retry_after
from tests.support.upstream import HANGS, Reply, Upstream, fixture


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


FAST = HttpConfig(
    connect_timeout=_s(2),
    read_timeout=_s(2),
    retries=2,
    backoff=_s(0.01),
    max_wait=_s(2),
    max_bytes=1_000_000,
)


class Sleeps:
    """Records the waits the client asks for instead of sleeping: tests stay quick."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(sleeps: Sleeps | None = None, contact: str = "", **changes: object) -> HttpClient:
    options = dataclasses.replace(FAST, **changes)  # type: ignore[arg-type]
    return HttpClient(options, contact=contact, sleep=sleeps or Sleeps())


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
    resp = client(sleeps, backoff=_s(0.01)).get(upstream.url("/flaky"))
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
    dest = client().download(
        upstream.url("/model"),
        tmp_path / "m.bin",
        max_bytes=1_000_000,
        progress=lambda done, total: seen.append(done),
    )
    assert dest.read_bytes() == b"m" * 300_000 and seen[-1] == 300_000
    upstream.set("/huge", Reply(filler=5_000_000, declare_length=False))
    with pytest.raises(FetchError):
        client().download(upstream.url("/huge"), tmp_path / "h.bin")  # http.max_bytes by default
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]  # no partial file left


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait


def test_one_client_reuses_its_connections(upstream: Upstream) -> None:
    """A web source's pages come over one kept-alive connection, not one connection per page."""
    upstream.set("/page", Reply(body=b"page", content_type="text/html"))
    http = client()
    for _ in range(30):
        assert http.get(upstream.url("/page")).content == b"page"
    assert len({hit.peer for hit in upstream.hits("/page")}) == 1
    http.close()


def test_one_client_is_shared_by_threads(upstream: Upstream) -> None:
    """Threads share a client safely, one session per request under way; a poll's threads come and go (a new
    pool each cycle) and still reuse the connections of the threads before them: no session piles up."""
    upstream.set("/page", Reply(body=b"page", content_type="text/html"))
    http = client()
    results: list[bytes] = []

    def fetch() -> None:
        for _ in range(10):
            results.append(http.get(upstream.url("/page")).content)

    for _cycle in range(3):
        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert results == [b"page"] * 120
    assert len({hit.peer for hit in upstream.hits("/page")}) <= 4
    http.close()


def test_download_uses_the_http_settings(upstream: Upstream, tmp_path: Path) -> None:
    """Model downloads and the package index go out with the instance's User-Agent and caps too."""
    upstream.set("/index.json", Reply(body=b"{}", content_type="application/json"))
    client(contact="https://news.example.org/").download(upstream.url("/index.json"), tmp_path / "i.json")
    assert "https://news.example.org/" in upstream.hits("/index.json")[0].headers["user-agent"]
    upstream.set("/big", Reply(filler=2_000_000, declare_length=False))
    with pytest.raises(FetchError, match="1000000-byte limit"):
        client().download(upstream.url("/big"), tmp_path / "big.bin")  # FAST's max_bytes


@pytest.mark.parametrize("drip_head", [False, True], ids=["body", "status-and-headers"])
def test_a_slow_drip_is_cut_off_at_the_deadline(upstream: Upstream, drip_head: bool) -> None:
    # One byte every 0.2 s: every read arrives far within the 30 s read timeout; the answer would take 80 s.
    upstream.set("/drip", Reply(body=b"x" * 400, drip=0.2, drip_head=drip_head))
    with pytest.raises(FetchError) as err:
        client(read_timeout=_s(30), deadline=_s(2)).get(upstream.url("/drip"))
    assert f"{upstream.url('/drip')}: no complete answer within http.deadline (2s)" in str(err.value)
    assert not err.value.transient  # a server this slow is not retried within the poll
    assert len(upstream.hits("/drip")) == 1
    assert upstream.sent["/drip"] < 400  # cut off, not waited out


def test_no_retry_starts_that_the_deadline_would_cut(upstream: Upstream) -> None:
    upstream.set("/down", Reply(status=503))
    sleeps = Sleeps()
    with pytest.raises(FetchError) as err:
        client(sleeps, deadline=_s(5), backoff=_s(10)).get(upstream.url("/down"))
    assert "HTTP 503" in str(err.value)
    assert len(upstream.hits("/down")) == 1 and sleeps.waits == []


def test_a_hub_that_drips_its_answer_is_cut_off(upstream: Upstream) -> None:
    upstream.set("/hub", Reply(status=202, body=b"x" * 400, drip=0.2))
    with pytest.raises(FetchError) as err:
        client(deadline=_s(2)).post_form(upstream.url("/hub"), {"hub.mode": "publish"})
    assert "no complete answer within http.deadline (2s)" in str(err.value)
