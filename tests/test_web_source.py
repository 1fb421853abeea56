"""Web page sources through the real pipeline: listing → article pages, extraction, seen pages, failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect
from tests.support.edits import replaced
from tests.support.instances import Clock, open_instance, source_toml
from tests.support.upstream import HANGS, Reply, Upstream, fixture


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _serve_site(upstream: Upstream) -> None:
    upstream.set("/news/", fixture("listing.html"))
    upstream.set("/news/harbour-bridge.html?utm_campaign=home", fixture("harbour-bridge.html"))
    upstream.set("/news/library-hours.html", fixture("library-hours.html"))


def _collect(ctx: Context) -> CycleReport:
    report = CycleReport()
    collect(ctx, report)
    return report


def _web(ctx: Context) -> dict[str, object]:
    return {a.title: a for a in ctx.store.articles() if a.source == "site"}


def _open(make_instance: Callable[..., Path], upstream: Upstream, clock: Clock, **options: object) -> Context:
    return open_instance(make_instance, source_toml("site", "web", upstream.url("/news/"), **options), clock)


def test_listing_links_are_found_and_pages_extracted(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    _serve_site(upstream)
    ctx = _open(make_instance, upstream, clock)
    report = _collect(ctx)
    articles = _web(ctx)
    assert set(articles) == {"Harbour bridge reopens", "Library extends its hours"}, report.problems
    bridge = articles["Harbour bridge reopens"]
    assert bridge.author == "Ana Lima" and bridge.image == "https://img.example.net/bridge.jpg"  # type: ignore[attr-defined]
    assert bridge.published.isoformat() == "2026-03-01T01:30:00+00:00"  # type: ignore[attr-defined]
    body = bridge.body_html  # type: ignore[attr-defined]
    assert "cyclists used the new lane" in body
    assert "<script" not in body and "injected text" not in body and "Buy now" not in body
    assert "onmouseover" not in body and "Copyright" not in body
    # Navigation, aside and footer links are not articles.
    assert not upstream.hits("/about-us.html") and not upstream.hits("/news/most-read-2019.html")
    ctx.close()


def test_pages_already_read_are_not_fetched_again_until_the_listing_changes(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    _serve_site(upstream)
    ctx = _open(make_instance, upstream, clock)
    _collect(ctx)
    again = _collect(ctx)
    assert (again.new, again.updated) == (0, 0)
    assert len(upstream.hits("/news/library-hours.html")) == 1

    changed = fixture("listing.html")
    changed.body = replaced(changed.body, b"5 March", b"5 March (updated)")
    upstream.set("/news/", changed)
    edited = fixture("library-hours.html")
    edited.body = replaced(edited.body, b"ten in the evening", b"eleven at night")
    upstream.set("/news/library-hours.html", edited)
    report = _collect(ctx)
    assert (report.new, report.updated) == (0, 1)
    assert len(upstream.hits("/news/library-hours.html")) == 2
    assert len(upstream.hits("/news/harbour-bridge.html?utm_campaign=home")) == 1
    assert "eleven at night" in _web(ctx)["Library extends its hours"].body_html  # type: ignore[attr-defined]
    ctx.close()


def test_selectors_override_extraction(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    _serve_site(upstream)
    selectors = {
        "links": "li.story h2 a",
        "title": "h1.headline",
        "author": "p.byline",
        "body": "div.story-body p",
    }
    ctx = _open(make_instance, upstream, clock, selectors=selectors)
    _collect(ctx)
    library = _web(ctx)["Library extends its hours"]
    assert library.author == "By Kenji Sato"  # type: ignore[attr-defined]
    assert "iframe" not in library.body_html and "Sunday mornings" in library.body_html  # type: ignore[attr-defined]
    ctx.close()


def test_a_failing_article_page_is_retried_and_the_others_go_on(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    _serve_site(upstream)
    upstream.set("/news/library-hours.html", Reply(status=500))
    ctx = _open(make_instance, upstream, clock)
    report = _collect(ctx)
    assert set(_web(ctx)) == {"Harbour bridge reopens"}
    page = upstream.url("/news/library-hours.html")
    assert any(p.origin == page and "HTTP 500" in p.message for p in report.problems)
    upstream.set("/news/library-hours.html", fixture("library-hours.html"))
    _collect(ctx)
    assert set(_web(ctx)) == {"Harbour bridge reopens", "Library extends its hours"}
    ctx.close()


def test_listing_failure_is_recorded_and_recovered(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    upstream.set("/news/", Reply(delay=HANGS))
    ctx = _open(make_instance, upstream, clock)
    _collect(ctx)
    state = ctx.store.source_states()["site"]
    assert upstream.url("/news/") in state["last_error"] and "no response within" in state["last_error"]
    _serve_site(upstream)
    clock.advance(hours=1)
    _collect(ctx)
    assert len(_web(ctx)) == 2 and ctx.store.source_states()["site"]["failures"] == 0
    ctx.close()


def test_wrong_declared_charset_is_decoded_right(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    upstream.set(
        "/news/",
        Reply(
            body=b'<main><h2><a href="/news/cafe.html">Caf\xc3\xa9</a></h2></main>', content_type="text/html"
        ),
    )
    upstream.set("/news/cafe.html", fixture("cafe-utf8.html", content_type="text/html; charset=iso-8859-1"))
    ctx = _open(make_instance, upstream, clock, language="fr")
    _collect(ctx)
    assert set(_web(ctx)) == {"Le café du port rouvre"}
    ctx.close()


def test_same_article_in_feed_and_on_the_web_is_stored_once(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    _serve_site(upstream)
    upstream.set("/feed.xml", fixture("feed.xml", base=upstream.base))
    sources = source_toml("wire", "feed", upstream.url("/feed.xml")) + source_toml(
        "site", "web", upstream.url("/news/")
    )
    ctx = open_instance(make_instance, sources, clock)
    report = _collect(ctx)
    bridges = [a for a in ctx.store.articles() if a.title == "Harbour bridge reopens"]
    assert len(bridges) == 1  # whichever source stored it first keeps it
    assert report.duplicates == 1
    pages = {
        p: len(upstream.hits(p))
        for p in ("/news/harbour-bridge.html?utm_campaign=home", "/news/library-hours.html")
    }
    assert all(pages.values())
    again = _collect(ctx)
    assert (again.new, again.updated) == (0, 0)
    # Sources are polled side by side, so either may have stored the article first; when the web page won, the
    # re-read feed still names it (one duplicate). The web page itself is never fetched again.
    assert again.duplicates <= 1
    assert {p: len(upstream.hits(p)) for p in pages} == pages
    ctx.close()


def test_page_limit_spreads_work_over_polls(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    _serve_site(upstream)
    upstream.set("/news/", fixture("listing.html", etag='"l1"'))
    ctx = open_instance(
        make_instance, source_toml("site", "web", upstream.url("/news/")), clock, targets=("fr",)
    )
    ctx = _with_max_pages(ctx, 1)
    assert _collect(ctx).new == 3 + 1  # the drop folder's three, and one page
    # The listing's 304 is not trusted yet: one page is still unread.
    assert "if-none-match" not in upstream.hits("/news/")[-1].headers
    assert _collect(ctx).new == 1
    assert len(_web(ctx)) == 2
    _collect(ctx)
    assert upstream.hits("/news/")[-1].headers.get("if-none-match") == '"l1"'
    ctx.close()


def _with_max_pages(ctx: Context, pages: int) -> Context:
    from dataclasses import replace

    http = replace(ctx.config.http, max_pages=pages)
    ctx.config = replace(ctx.config, http=http)
    return ctx


def test_sources_are_polled_side_by_side(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    # The feed answers only once the web listing was requested. Polled one after the other (feed first),
    # the feed would time out; side by side, both succeed. No timing is asserted, only the outcome.
    _serve_site(upstream)
    upstream.set("/feed.xml", fixture("atom.xml", base=upstream.base, wait_for="/news/"))
    sources = source_toml("wire", "feed", upstream.url("/feed.xml")) + source_toml(
        "site", "web", upstream.url("/news/")
    )
    ctx = open_instance(make_instance, sources, clock)
    report = _collect(ctx)
    assert not report.problems, report.problems
    assert {a.source for a in ctx.store.articles()} == {"newsroom", "wire", "site"}
    ctx.close()
