"""Feed sources through the real pipeline and store, against a misbehaving server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect
from tests.conftest import DATA
from tests.support.edits import replaced
from tests.support.instances import Clock, open_instance, source_toml
from tests.support.upstream import HANGS, Reply, Upstream, fixture

FOLDER_ARTICLES = 3  # the fixture drop folder every instance also has


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wire(make_instance: Callable[..., Path], upstream: Upstream, clock: Clock) -> Iterator[Context]:
    """An instance with one feed source, "wire", at /feed.xml."""
    ctx = open_instance(make_instance, source_toml("wire", "feed", upstream.url("/feed.xml")), clock)
    try:
        yield ctx
    finally:
        ctx.close()


def _collect(ctx: Context) -> CycleReport:
    report = CycleReport()
    collect(ctx, report)
    return report


def _titles(ctx: Context, source: str = "wire") -> set[str]:
    return {a.title for a in ctx.store.articles() if a.source == source}


def test_feed_articles_are_stored_once_with_stable_keys(wire: Context, upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("feed.xml", base=upstream.base))
    first = _collect(wire)
    assert first.new == FOLDER_ARTICLES + 3 and not first.problems
    keys = {a.key for a in wire.store.articles() if a.source == "wire"}
    assert "item-2" in keys  # a short, safe GUID is kept as it is
    assert all(len(k) <= 80 for k in keys)
    body = next(a.body_html for a in wire.store.articles() if a.title == "Harbour bridge reopens")
    assert "<script" not in body and "onclick" not in body and "Traffic was light." in body
    again = _collect(wire)
    assert (again.new, again.updated) == (0, 0)
    assert {a.key for a in wire.store.articles() if a.source == "wire"} == keys


def test_conditional_get_and_304(wire: Context, upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("feed.xml", base=upstream.base, etag='"abc"'))
    _collect(wire)
    report = _collect(wire)
    assert report.new == 0 and not report.problems
    hits = upstream.hits("/feed.xml")
    assert hits[1].headers.get("if-none-match") == '"abc"'
    assert wire.store.source_states()["wire"]["failures"] == 0


def test_changed_title_is_an_update_not_a_new_article(wire: Context, upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("feed.xml", base=upstream.base))
    _collect(wire)
    edited = fixture("feed.xml", base=upstream.base)
    edited.body = replaced(edited.body, b"School garden blooms", b"School garden in full bloom")
    upstream.set("/feed.xml", edited)
    report = _collect(wire)
    assert (report.new, report.updated) == (0, 1)
    assert "School garden in full bloom" in _titles(wire) and "School garden blooms" not in _titles(wire)


def test_entry_without_guid_or_date_keeps_its_key_and_date(
    wire: Context, upstream: Upstream, clock: Clock
) -> None:
    rss = (
        b'<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>d</description>'
        b"<item><title>Undated</title><link>http://x/undated?utm_source=a</link><description>Body.</description></item>"
        b"</channel></rss>"
    )
    upstream.set("/feed.xml", Reply(body=rss))
    assert _collect(wire).new == FOLDER_ARTICLES + 1
    clock.advance(hours=1)
    again = _collect(wire)
    assert (again.new, again.updated) == (0, 0)  # the stand-in date did not make it "changed"


def test_declared_utf8_but_latin1_bytes_are_read_and_reported(wire: Context, upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("latin1-declared-utf8.xml"))
    report = _collect(wire)
    assert "Café réouvert" in _titles(wire)
    assert any("declared as utf-8" in p.message for p in report.problems)


def test_atom_feed_with_html_title(wire: Context, upstream: Upstream) -> None:
    upstream.set("/feed.xml", fixture("atom.xml", base=upstream.base))
    _collect(wire)
    article = next(a for a in wire.store.articles() if a.source == "wire")
    assert (article.title, article.author) == ("Ferry timetable changes", "Omar Haddad")


# Each way a server can misbehave: what it serves, and words the recorded error must contain.
MISBEHAVIOURS = {
    "slow": (Reply(delay=HANGS), "no response within 2s"),
    "500": (Reply(status=500), "HTTP 500"),
    "429": (Reply(status=429, headers={"Retry-After": "600"}), "Retry-After: 600s"),
    "truncated": (fixture("feed.xml", truncate_at=300), "bytes"),
    "50MB": (Reply(filler=50_000_000, declare_length=False), "larger than http.max_bytes"),
    "invalid-xml": (fixture("invalid.xml", content_type="text/html"), "not a readable feed"),
    "entity-bomb": (fixture("bomb.xml"), "declares XML entities"),
    "external-entity": (fixture("xxe.xml"), "declares XML entities"),
    "404": (Reply(status=404), "HTTP 404"),
}


@pytest.mark.parametrize("name", list(MISBEHAVIOURS))
def test_misbehaving_feed_loses_nothing_and_recovers(
    name: str, wire: Context, upstream: Upstream, clock: Clock
) -> None:
    reply, words = MISBEHAVIOURS[name]
    url = upstream.url("/feed.xml")
    good = fixture("feed.xml", base=upstream.base)
    upstream.set("/feed.xml", good)
    _collect(wire)
    assert len(_titles(wire)) == 3

    upstream.set("/feed.xml", reply)
    report = _collect(wire)  # the service survives: no exception
    state = wire.store.source_states()["wire"]
    assert words in state["last_error"] and url in state["last_error"]
    assert state["failures"] == 1 and state["next_poll"] > clock.now
    assert len(_titles(wire)) == 3  # nothing it had is lost
    assert {a.source for a in wire.store.articles()} == {"wire", "newsroom"}  # the folder source went on
    assert any(url in p.message for p in report.problems)
    if name == "429":
        assert (state["next_poll"] - clock.now).total_seconds() >= 600

    # Backing off: the next cycle does not touch the failing source at all.
    hits = len(upstream.hits("/feed.xml"))
    _collect(wire)
    assert len(upstream.hits("/feed.xml")) == hits

    grown = fixture("feed.xml", base=upstream.base)
    grown.body = replaced(
        grown.body,
        b"  </channel>",
        b"<item><title>Library extends its hours</title><guid>item-4</guid>"
        b"<pubDate>Thu, 05 Mar 2026 08:00:00 +0800</pubDate><description>Open late.</description></item></channel>",
    )
    upstream.set("/feed.xml", grown)
    clock.advance(hours=1)
    recovered = _collect(wire)
    assert recovered.new == 1
    assert len(_titles(wire)) == 4
    state = wire.store.source_states()["wire"]
    assert (state["failures"], state["last_error"], state["next_poll"]) == (0, "", None)
    assert state["last_success"] == clock.now


def test_backoff_grows_and_is_capped(wire: Context, upstream: Upstream, clock: Clock) -> None:
    upstream.set("/feed.xml", Reply(status=500))
    delays = []
    for _ in range(12):
        _collect(wire)
        state = wire.store.source_states()["wire"]
        delays.append((state["next_poll"] - clock.now).total_seconds())
        clock.now = state["next_poll"]
    assert delays[0] < delays[1] < delays[2] < delays[3]  # 1m, 2m, 4m, 8m (every = 1m), ±10% jitter
    assert max(delays) <= 6 * 3600 * 1.1  # http.max_backoff = 6h
    assert wire.store.source_states()["wire"]["failures"] == 12


FEED_DATES = DATA / "feed-dates"
FEED_DATES_EXPECTED = json.loads((FEED_DATES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", [n for n in FEED_DATES_EXPECTED if not n.startswith("_")])
def test_feed_dates_are_the_entries_own_or_a_named_problem(
    wire: Context, upstream: Upstream, name: str
) -> None:
    """tests/data/feed-dates: an entry whose date is written but unusable (out of range, an offset beyond
    ±14:00, unreadable) is a problem quoting the date as written and is not stored, never dated "now"; the
    feed's other entries are stored with their own dates; an entry that writes no date gets a stand-in."""
    expected = FEED_DATES_EXPECTED[name]
    feed_url = upstream.url("/feed.xml")
    body = (FEED_DATES / name).read_bytes().replace(b"{base}", upstream.base.encode())
    before = datetime.now(UTC) - timedelta(seconds=2)
    upstream.set("/feed.xml", Reply(body=body))
    report = _collect(wire)
    stored = {a.title: a for a in wire.store.articles() if a.source == "wire"}
    assert set(stored) == set(expected["stored"])
    for title, date in expected["stored"].items():
        if date == "guessed":
            assert stored[title].published >= before, title
        else:
            assert stored[title].published == datetime.fromisoformat(date), title
    if "Bad modification" in stored:  # its unusable `updated` was left out: never changed since published
        assert stored["Bad modification"].modified in (None, stored["Bad modification"].published)
    problems = [p for p in report.problems if p.source == "wire"]
    for want in expected["problems"]:
        assert any(
            feed_url in p.origin and want["where"] in p.origin and want["says"] in p.message for p in problems
        ), (want, problems)
    assert len(problems) == len(expected["problems"]), problems
