"""Random and mutated bytes at every parser: feeds, web pages, listing links, drop-folder files. No crash.
Odd values in one item (a drop file, a feed entry) never stop its source.

Bounded: a fixed number of examples per parser (a few seconds each). Hypothesis shrinks any failure to a
small input and prints it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicator.config import SourceConfig, load_config
from syndicator.errors import SourceError
from syndicator.models import ArticleInput, CycleReport, Problem, printable
from syndicator.pipeline import collect, open_context
from syndicator.sources import SourceContext, make_source
from syndicator.sources.extract import ExtractError, decode_html, extract_article, find_links
from syndicator.sources.feed import entry_article, parse_feed
from tests.support.instances import source_toml
from tests.support.upstream import Reply, Upstream

UPSTREAM = Path(__file__).parent / "data" / "upstream"
SEEDS = [p.read_bytes() for p in sorted(UPSTREAM.iterdir())] + [
    (Path(__file__).parent / "data" / "folder" / "wire-story.json").read_bytes(),
    (Path(__file__).parent / "data" / "articles" / "2026-03-01-harbour-bridge.md").read_bytes(),
]
TZ = ZoneInfo("Asia/Shanghai")
CTX = SourceContext(timezone=TZ, languages=("en", "fr"))
FEED = SourceConfig(
    name="wire", kind="feed", language="en", options={"url": "http://x/", "detect_language": True}
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A fixture with random splices: deep enough to reach the parsers' inner paths."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 40))
        data[at : at + cut] = draw(st.binary(max_size=40))
    return bytes(data)


inputs = st.one_of(st.binary(max_size=2000), mutated())


@FUZZ
@given(inputs)
@example(b'<?encoding="\x80"?>')  # found by this test: feedparser 6.0 raised UnicodeDecodeError
def test_feed_parser_never_crashes(data: bytes) -> None:
    try:
        parsed = parse_feed(data, "http://x/feed.xml", {"content-type": "application/xml; charset=utf-8"})
    except SourceError:
        return
    fallback = datetime(2026, 3, 1, tzinfo=UTC)
    for entry in parsed.entries:
        try:
            item = entry_article(entry, FEED, CTX, "http://x/feed.xml", fallback)
        except (ValueError, TypeError, AttributeError):
            continue  # the source turns these into Problems
        assert item.title and item.published.tzinfo is not None


@FUZZ
@given(inputs, st.sampled_from([None, "utf-8", "iso-8859-1", "shift_jis", "no-such-charset"]))
# Found by this test: urljoin raised ValueError on a bracketed non-IP host in og:image.
@example(b"<head><title>t</title><meta property=og:image content=a://[]>!", None)
@example(b"<head><title>t</title><meta property=og:image content=a://[>!", None)
def test_page_extraction_never_crashes(data: bytes, charset: str | None) -> None:
    text = decode_html(data, charset)
    assert isinstance(text, str)
    find_links(text, "http://127.0.0.1/news/")
    find_links(text, "http://127.0.0.1/news/", "li a, h2")
    try:
        ex = extract_article(text, "http://127.0.0.1/a.html", TZ, {"title": "h1", "date": "time"})
    except ExtractError:
        return
    assert ex.title and "<script" not in ex.body_html


@FUZZ
@given(inputs, st.sampled_from([".md", ".html", ".json"]))
@example(b"{\n\x00\n{", ".md")  # found by this test: JSON front matter raised JSONDecodeError
@example(
    b'{\n"":"","title":"!","date":"2000-01-01 00,0","":"","":[""],"":""\n{', ".md"
)  # an article and notes
def test_drop_folder_never_crashes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"article{suffix}").write_bytes(data)
        cfg = SourceConfig(
            name="drop",
            kind="folder",
            every=timedelta(minutes=5),
            language="en",
            options={"path": Path(folder)},
        )
        items = list(make_source(cfg, CTX).poll())
    # One file: its article or a problem saying why not, and notes (Problems) about what was left out of it.
    assert items and all(isinstance(i, ArticleInput | Problem) for i in items)
    assert sum(isinstance(i, ArticleInput) for i in items) <= 1


# -- odd items never stop their source ---------------------------------------------------------------------
#
# Through the real poll loop and a real SQLite store: one odd item beside good ones. Whatever it holds
# (dates the store cannot hold, lone surrogates, control characters, huge or wrongly typed fields), the good
# items are stored, the source stays healthy, and the odd one is stored or reported once by name.

ITEMS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _long(text: str) -> str:
    """A value longer than any field accepts (cheap to generate: few random bytes)."""
    return (text * 3000)[:2500]


# Any code point, lone surrogates included (json.dumps writes them as \ud800 escapes).
any_text = st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=60)
offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), timezones=offsets)
values = st.one_of(
    any_text,
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.lists(any_text, max_size=3),
    st.dictionaries(any_text, any_text, max_size=2),
)
odd_fields = st.fixed_dictionaries(
    {"title": st.one_of(any_text, values), "date": st.one_of(moments.map(datetime.isoformat), values)},
    optional={
        name: st.one_of(any_text, values, st.text(min_size=1, max_size=4).map(_long))
        for name in ("id", "language", "summary", "author", "image", "url", "body_html", "body")
    }
    | {"tags": st.one_of(st.lists(any_text, max_size=120), values)},
)
file_names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"), min_size=1, max_size=40
)


def _odd_folder_item_never_stops_the_folder(root: Path) -> None:
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    folder = root / "articles"

    @ITEMS
    @given(odd_fields, file_names)
    @example({"title": "Far past", "date": "0001-01-01T00:00:00+14:00"}, "odd")  # issue 10
    @example({"title": "Far future", "date": "9999-12-31T23:00:00-14:00"}, "odd")
    @example({"title": "x\ud800", "date": "2026-03-01T10:00:00Z"}, "odd")
    @example({"title": "Newline", "date": "2026-03-01T10:00:00Z"}, "story\n")  # issue 10
    def check(fields: dict[str, object], name: str) -> None:
        for old in folder.iterdir():
            if old.name != "good.md":
                old.unlink()
        odd = folder / f"{name}.json"
        odd.write_text(json.dumps(fields), encoding="utf-8")
        report = CycleReport()
        collect(ctx, report, force=True)
        assert ctx.store.article_by_key("newsroom", "good") is not None
        assert ctx.store.source_states()["newsroom"]["failures"] == 0, report.problems
        assert all(p.origin == printable(str(odd)) for p in report.problems), report.problems
        assert len(report.problems) <= 1

    try:
        check()
    finally:
        ctx.close()


def test_an_odd_drop_file_never_stops_the_folder(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",), articles=[])
    shutil.copy(Path(__file__).parent / "data" / "folder" / "good.md", root / "articles" / "good.md")
    _odd_folder_item_never_stops_the_folder(root)


# Text an XML document can carry (the odd item must not make the whole feed unreadable).
xml_chars = st.characters(
    codec="utf-8",
    exclude_characters="".join(map(chr, [*range(9), 11, 12, *range(14, 32)])) + "\ufffe\uffff",
)
odd_items = st.dictionaries(
    st.sampled_from(["title", "guid", "link", "description", "pubDate", "category", "author"]),
    st.one_of(st.text(xml_chars, max_size=80), st.text(xml_chars, min_size=1, max_size=4).map(_long)),
)


def _item(fields: dict[str, str]) -> str:
    return "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items()) + "</item>"


def test_an_odd_feed_item_never_stops_the_feed(
    make_instance: Callable[..., Path], upstream: Upstream
) -> None:
    root = make_instance(
        engine="pseudo",
        targets=("fr",),
        articles=[],
        extra=source_toml("wire", "feed", upstream.url("/f.xml")),
    )
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    good = [
        {"title": f"Good {n}", "guid": f"good-{n}", "link": f"http://x/good-{n}",
         "pubDate": "Sun, 01 Mar 2026 10:00:00 GMT", "description": f"Text {n}."}
        for n in (1, 2)
    ]  # fmt: skip

    @ITEMS
    @given(odd_items)
    @example({"title": "Far past", "pubDate": "0001-01-01T00:00:00+14:00"})
    def check(odd: dict[str, str]) -> None:
        items = _item(good[0]) + _item(odd) + _item(good[1])
        body = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>W</title>'
        body += f"<link>http://x/</link><description>d</description>{items}</channel></rss>"
        upstream.set("/f.xml", Reply(body=body.encode("utf-8")))
        report = CycleReport()
        collect(ctx, report, names=["wire"], force=True)
        titles = {a.title for a in ctx.store.articles() if a.source == "wire"}
        assert {"Good 1", "Good 2"} <= titles, report.problems
        assert ctx.store.source_states()["wire"]["failures"] == 0, report.problems
        # At most one problem, naming the odd item: its place in the feed when it cannot be read, its own
        # link (or the feed and its guid or title) when validation turns it away; never a good item.
        assert len(report.problems) <= 1, report.problems
        assert not any(f"good-{n}" in p.origin for n in (1, 2) for p in report.problems), report.problems

    try:
        check()
    finally:
        ctx.close()
