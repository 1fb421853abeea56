"""An entry's `updated` never goes back: an edit that declares an earlier modification time than the one
already published is dated when it was picked up, and said once per version of the item (real folder and feed
sources, SQLite store; the dates readers see checked with feedparser)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from syndicator.config import load_config
from syndicator.models import CycleReport
from syndicator.pipeline import Context, open_context, publish
from syndicator.pipeline.collect import collect
from tests.support.instances import Clock, open_instance, source_toml
from tests.support.upstream import Reply, Upstream


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# One drop file edited in turn: (the clock when the poll runs, its front matter `updated:` or "", the stored
# modification time expected after the poll, the warning expected, "" for none). The newsroom's case: a real
# edit on Dec 1, then an edit that adds an `updated:` from May.
EDITS = [
    ("2026-03-10T08:00:00Z", "", "2026-03-01T00:00:00Z", ""),
    ("2026-12-01T10:55:20Z", "", "2026-12-01T10:55:20Z", ""),
    ("2026-12-02T09:00:00Z", "2026-05-02T10:00:00+08:00", "2026-12-02T09:00:00Z",
     "declares updated 2026-05-02T02:00:00Z, before the 2026-12-01T10:55:20Z already published"),
    ("2026-12-03T09:00:00Z", "2026-12-03T08:00:00Z", "2026-12-03T08:00:00Z", ""),  # later: the editor's word
]  # fmt: skip


@pytest.fixture
def folder_ctx(make_instance: Callable[..., Path]) -> Iterator[tuple[Context, Clock]]:
    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    clock = Clock()
    context = open_context(load_config(root / "config" / "syndicator.toml"), clock=clock)
    yield context, clock
    context.close()


def _write(folder: Path, n: int, updated: str) -> Path:
    front = f"updated: {updated}\n" if updated else ""
    path = folder / "ferry.md"
    tmp = folder / ".ferry.md.tmp"
    tmp.write_text(
        f"---\ntitle: Ferry timetable\ndate: 2026-03-01T08:00:00+08:00\nid: ferry\n{front}---\nVersion {n}.\n",
        encoding="utf-8",
    )
    os.replace(tmp, path)
    return path


def _poll(ctx: Context) -> CycleReport:
    report = CycleReport()
    collect(ctx, report, force=True)
    return report


def _atom_updated(ctx: Context) -> datetime:
    publish(ctx, CycleReport())
    feed = feedparser.parse((ctx.config.publish.feeds_dir / "en" / "atom.xml").read_bytes())
    return datetime(*feed.entries[0].updated_parsed[:6], tzinfo=UTC)


def test_a_drop_file_edit_never_moves_updated_back(folder_ctx: tuple[Context, Clock]) -> None:
    ctx, clock = folder_ctx
    folder = Path(ctx.config.sources[0].options["path"])
    shown: list[datetime] = []
    for n, (now, updated, expected, warning) in enumerate(EDITS):
        clock.now = _at(now)
        path = _write(folder, n, updated)
        report = _poll(ctx)
        article = ctx.store.article_by_key("newsroom", "ferry")
        assert article is not None and (article.modified or article.published) == _at(expected), now
        notes = [f"{p.origin}: {p.message}" for p in report.problems]
        if warning:
            assert len(notes) == 1 and warning in notes[0] and str(path) in notes[0], notes
            assert "set `updated:` to the time of this edit" in notes[0]
        else:
            assert notes == [], notes
        shown.append(_atom_updated(ctx))
        # Said once for this version of the file: the next poll skips it, silently.
        again = _poll(ctx)
        assert again.unchanged == 1 and not again.problems
    assert shown == sorted(shown), "a reader saw `updated` go back"


FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>{updated}</updated>
<entry><id>urn:wire:1</id><title>Ferry timetable</title><link href="https://wire.example.org/1"/>
<published>2026-03-01T00:00:00Z</published><updated>{updated}</updated><content type="html">{body}</content>
</entry></feed>"""


def test_an_upstream_whose_updated_goes_back(make_instance: Callable[..., Path], upstream: Upstream) -> None:
    """The sibling: a feed entry edited upstream with an earlier `updated` than the one published."""
    clock = Clock()
    ctx = open_instance(
        make_instance, source_toml("wire", "feed", upstream.url("/wire.xml")), clock, articles=[]
    )
    try:
        upstream.set(
            "/wire.xml", Reply(body=FEED.format(updated="2026-03-05T00:00:00Z", body="First.").encode())
        )
        assert _poll(ctx).new == 1
        clock.now = _at("2026-03-20T00:00:00Z")
        upstream.set(
            "/wire.xml", Reply(body=FEED.format(updated="2026-03-02T00:00:00Z", body="Second.").encode())
        )
        report = _poll(ctx)
        [article] = [a for a in ctx.store.articles() if a.source == "wire"]
        assert article.modified == clock.now  # dated when it was picked up, not moved back
        [note] = [p.message for p in report.problems if p.source == "wire"]
        assert "declares updated 2026-03-02T00:00:00Z, before the 2026-03-05T00:00:00Z" in note
        assert "the upstream's own date went back" in note
        assert not [p for p in _poll(ctx).problems if p.source == "wire"]  # the same version: nothing to say
    finally:
        ctx.close()
