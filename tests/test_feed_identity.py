"""An upstream feed that moves keeps its articles' identity: ids are taken as the upstream writes them.

Two real HTTP servers on 127.0.0.1 (two ports) serve the same feed, whose ids and links are relative
(tests/data/upstream/relative-ids.xml). The source moves from one to the other; an item edited after the move is
an update of the stored article, published as an update of the same entry, never a duplicate or a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from syndicator.config import load_config
from syndicator.models import ArticleInput, CycleReport
from syndicator.pipeline import collect, content_hash, open_context, run_cycle
from syndicator.sources.ids import join_url, stable_key
from tests.support.edits import replaced
from tests.support.instances import Clock, open_instance, source_toml
from tests.support.upstream import Upstream, fixture

FEED = "/feed.xml"
FOLDER = 3  # the fixture drop folder every test instance also has: new on the first poll
WRITTEN = {
    "items/tram": "Tram line extended",
    "archive/lights": "Harbour lights restored",
}  # id (with xml:base)


@pytest.fixture
def moved() -> Iterator[Upstream]:
    """The second server: where the feed moves to (another port)."""
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


class Instance:
    """A temp instance with one feed source, "wire"; `move` points it elsewhere (as an admin edits the config)."""

    def __init__(self, make_instance: Callable[..., Path], url: str, clock: Clock) -> None:
        self.clock = clock
        self.ctx = open_instance(make_instance, source_toml("wire", "feed", url), clock, targets=("fr",))
        self.config = self.ctx.config.root / "config" / "syndicator.toml"
        self.url = url

    def move(self, url: str) -> None:
        self.ctx.close()
        self.config.write_text(replaced(self.config.read_text(), self.url, url), encoding="utf-8")
        self.url = url
        self.ctx = open_context(load_config(self.config), clock=self.clock)

    def collect(self) -> CycleReport:
        report = CycleReport()
        collect(self.ctx, report)
        assert not report.problems, report.problems
        return report

    def wire(self) -> dict[str, str]:
        """Stored articles of the feed: title -> body."""
        return {a.title: a.body_html for a in self.ctx.store.articles() if a.source == "wire"}


@pytest.fixture
def instance(make_instance: Callable[..., Path], upstream: Upstream) -> Iterator[Instance]:
    made = Instance(make_instance, upstream.url(FEED), Clock())
    try:
        yield made
    finally:
        made.ctx.close()


def _serve(server: Upstream, edit: bool = False) -> None:
    reply = fixture("relative-ids.xml")
    if edit:
        reply.body = replaced(reply.body, b"reaches the harbour.", b"reaches the harbour and the airport.")
        reply.body = replaced(
            reply.body,
            b"<updated>2026-03-04T08:00:00Z</updated>\n    <content",
            b"<updated>2026-03-06T09:00:00Z</updated>\n    <content",
        )
    server.set(FEED, reply)


def test_an_edit_after_the_feed_moved_is_an_update(
    instance: Instance, upstream: Upstream, moved: Upstream
) -> None:
    _serve(upstream)
    _serve(moved, edit=True)
    first = instance.collect()
    assert first.new >= 2
    keys = {a.key for a in instance.ctx.store.articles() if a.source == "wire"}
    assert keys == {stable_key(i) for i in WRITTEN}  # as written: no host or port in them
    tram = next(a for a in instance.ctx.store.articles() if a.title == "Tram line extended")
    # What readers follow is resolved against where the feed was read.
    assert tram.url == f"{upstream.base}/news/tram.html"
    assert f'src="{upstream.base}/img/tram.png"' in tram.body_html
    run_cycle(instance.ctx)
    before = _entries(instance)

    instance.move(moved.url(FEED))
    report = instance.collect()
    # Both are updates: the edited one, and the other because its link (relative) now points to the new host.
    assert (report.new, report.updated, report.duplicates) == (0, 2, 0)
    assert "airport" in instance.wire()["Tram line extended"]
    run_cycle(instance.ctx)
    after = _entries(instance)
    assert after.keys() == before.keys()  # the same entries: none added, none lost
    tram_id = next(i for i, e in after.items() if e.title == "Tram line extended")
    assert "airport" in after[tram_id].content[0].value
    assert after[tram_id].updated_parsed[:6] == (2026, 3, 6, 9, 0, 0)  # the upstream's own time of the edit
    assert after[tram_id].published == before[tram_id].published
    lights = next(i for i, e in after.items() if e.title == "Harbour lights restored")
    assert after[lights].link == before[lights].link  # our own page: the same entry
    assert after[lights].updated == before[lights].updated  # the upstream did not change it: no new date
    # The original's address follows the move (the entry's xml:base resolved against the new feed URL).
    stored = next(a for a in instance.ctx.store.articles() if a.title == "Harbour lights restored")
    assert stored.url == f"{moved.base}/archive/lights.html"


def _entries(instance: Instance) -> dict[str, feedparser.FeedParserDict]:
    feeds = instance.ctx.config.publish.feeds_dir
    parsed = feedparser.parse((feeds / "en" / "atom.xml").read_bytes())
    return {e.id: e for e in parsed.entries if "/wire/" in e.id}


@pytest.mark.parametrize("poll_before_moving", [True, False], ids=["polled-then-moved", "moved-at-upgrade"])
def test_articles_stored_under_resolved_ids_keep_their_identity(
    instance: Instance, upstream: Upstream, moved: Upstream, poll_before_moving: bool
) -> None:
    """An instance whose earlier version stored the ids resolved against the feed URL: its articles are found,
    whether the source is polled once more at the old address first or moves at the same time as the upgrade
    (the old address is remembered with the source's HTTP validators). Their keys, and so their pages, stay."""
    store = instance.ctx.store
    legacy = {}
    for written, title in WRITTEN.items():
        resolved = join_url(upstream.url(FEED), written)
        item = ArticleInput("wire", stable_key(resolved), "en", title, "<p>Old text.</p>", _published(title))
        legacy[title] = item.key
        store.upsert_article(item, content_hash(item))
    store.save_page_state("wire", upstream.url(FEED), etag="", last_modified="")  # it was polled there
    _serve(upstream)
    _serve(moved, edit=True)
    if poll_before_moving:
        report = instance.collect()
        assert (report.new, report.updated, report.duplicates) == (FOLDER, 2, 0)
    instance.move(moved.url(FEED))
    report = instance.collect()
    assert report.new == (0 if poll_before_moving else FOLDER) and report.duplicates == 0
    stored = {a.title: a for a in store.articles() if a.source == "wire"}
    assert {t: a.key for t, a in stored.items()} == legacy
    assert "airport" in stored["Tram line extended"].body_html
    again = instance.collect()
    assert (again.new, again.updated, again.duplicates) == (0, 0, 0)


def _published(title: str) -> datetime:
    day = 4 if title.startswith("Tram") else 3
    return datetime(2026, 3, day, 8, tzinfo=UTC)
