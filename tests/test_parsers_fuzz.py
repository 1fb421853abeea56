"""Random and mutated bytes at every parser: feeds, web pages, listing links, drop-folder files. No crash.

Bounded: a fixed number of examples per parser (a few seconds each). Hypothesis shrinks any failure to a
small input and prints it.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicator.config import SourceConfig
from syndicator.errors import SourceError
from syndicator.models import ArticleInput, Problem
from syndicator.sources import SourceContext, make_source
from syndicator.sources.extract import ExtractError, decode_html, extract_article, find_links
from syndicator.sources.feed import entry_article, parse_feed

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
        (item,) = list(make_source(cfg, CTX).poll())
    assert isinstance(item, ArticleInput | Problem)
