"""Decoding and extraction rules for HTML (web pages and saved pages in the drop folder)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from syndicator.sources.extract import ExtractError, decode_html, extract_article, find_links


def test_decoding_trusts_valid_utf8_over_labels() -> None:
    assert decode_html("Café".encode(), "iso-8859-1") == "Café"  # declared Latin-1, really UTF-8
    assert decode_html("Café".encode("latin-1"), "utf-8") == "Café"  # declared UTF-8, really Latin-1
    assert decode_html(b'<meta charset="koi8-r">' + "Привет".encode("koi8-r")).endswith("Привет")
    assert decode_html(b"\xff\xfe\x00", "no-such-charset")  # never raises


def test_selectors_win_and_missing_ones_fall_back() -> None:
    html = """<html><head><meta property="article:published_time" content="2026-03-01T09:30:00Z"></head>
    <body><div class="hed">Selected title</div><h1>Heading</h1><article><p>First paragraph of the story text,
    long enough to count as an article body for the extractor.</p><p>Second paragraph with more words.</p>
    </article><span class="by">Desk</span></body></html>"""
    ex = extract_article(
        html, "http://x/a", ZoneInfo("UTC"), {"title": "div.hed", "author": "span.by", "date": "nope"}
    )
    assert (ex.title, ex.author) == ("Selected title", "Desk")
    assert ex.published is not None and ex.published.isoformat() == "2026-03-01T09:30:00+00:00"
    assert "First paragraph" in ex.body_html


def test_page_without_text_is_a_clear_error() -> None:
    with pytest.raises(ExtractError, match="no article text found"):
        extract_article(
            "<html><head><title>Only a title</title></head><body></body></html>", "", ZoneInfo("UTC")
        )


def test_links_selector_accepts_containers() -> None:
    html = '<div class="list"><div class="card"><a href="/a.html">A</a></div><a href="https://other.net/b">B</a></div>'
    assert [u for u, _ in find_links(html, "http://x/news/", "div.card")] == ["http://x/a.html"]
    # A selector may point at other hosts on purpose; automatic discovery stays on the listing's host.
    assert [u for u, _ in find_links(html, "http://x/news/", "div.list > a")] == ["https://other.net/b"]


@pytest.mark.parametrize(
    ("head", "modified"),
    [
        (
            '<meta property="article:modified_time" content="2026-03-02T10:00:00Z">',
            "2026-03-02T10:00:00+00:00",
        ),
        (
            '<meta property="og:updated_time" content="2026-03-02T11:00:00+01:00">',
            "2026-03-02T11:00:00+01:00",
        ),
        (
            '<script type="application/ld+json">{"dateModified": "2026-03-03"}</script>',
            "2026-03-03T00:00:00+00:00",
        ),
        ("", None),  # only a publication date: no change to report (a <time> is no modification time)
    ],
)
def test_a_page_says_when_it_changed(head: str, modified: str | None) -> None:
    html = f"""<html><head><meta property="article:published_time" content="2026-03-01T09:30:00Z">{head}</head>
    <body><h1>Heading</h1><article><time datetime="2026-03-01">1 March</time><p>First paragraph of the story
    text, long enough to count as an article body for the extractor.</p><p>Second paragraph.</p></article>
    </body></html>"""
    ex = extract_article(html, "http://x/a", ZoneInfo("UTC"))
    assert (ex.modified.isoformat() if ex.modified else None) == modified
