"""Regressions for the escaping holes of issues 10 and 14, each through the real pipeline where it was seen."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import html5lib
import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.models import ArticleInput, CycleReport
from syndicator.pipeline import content_hash, open_context, publish, translate
from syndicator.publish.feeds import FeedEntry
from syndicator.publish.pages import entry_page
from syndicator.publish.site import Headline, LanguageListing, build_index
from syndicator.sanitize import clean_html
from syndicator.serve.statuspage import render_status_page
from tests.support.hostile import escaped
from tests.support.xss import published_problems

# Issue 10, verbatim: a .json drop file whose language breaks out of hreflang="…".
LANGUAGE_PAYLOAD = {
    "title": "x",
    "date": "2026-03-01T10:00:00Z",
    "language": 'en"><img src=x onerror=alert(1)><a x="',
}
HTML = "{http://www.w3.org/1999/xhtml}"


def _run(root: Path, *args: str) -> int:
    return main(["--config", str(root / "config" / "syndicator.toml"), *args])


def _published(root: Path) -> dict[str, bytes]:
    feeds = root / "feeds"
    return {p.relative_to(feeds).as_posix(): p.read_bytes() for p in feeds.rglob("*") if p.is_file()}


def _live_handlers(data: bytes) -> list[str]:
    """Event-handler attributes a browser would see in an HTML document."""
    root = html5lib.parse(data, treebuilder="lxml").getroot()
    return [
        f"{el.tag} {a}"
        for el in root.iter()
        if isinstance(el.tag, str)
        for a in el.attrib
        if a.startswith("on")
    ]


def test_the_language_payload_of_issue_10_is_a_reported_problem(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(articles=["2026-03-03-night-market"], engine="pseudo", targets=("fr", "ar"))
    drop = root / "articles" / "payload.json"
    drop.write_text(json.dumps(LANGUAGE_PAYLOAD), encoding="utf-8")
    assert _run(root, "run", "--once") == 0
    out = capsys.readouterr()
    message = next(line for line in (out.out + out.err).splitlines() if "payload.json" in line)
    assert "is not a language code" in message and "not stored" in message
    files = _published(root)
    assert files and not any(b"onerror" in data for data in files.values())
    assert not [q for path, data in files.items() for q in published_problems(path, data)]


def test_a_hostile_language_already_in_the_store_is_escaped_in_every_document(
    make_instance: Callable[..., Path],
) -> None:
    # Stored before validation existed (or by a future path that skips it): the templates still escape it.
    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    try:
        item = ArticleInput(
            source="newsroom", key="x", language=LANGUAGE_PAYLOAD["language"], title="x", body_html="<p>x</p>",
            published=datetime(2026, 3, 1, 10, tzinfo=UTC),
        )  # fmt: skip
        article_id, _ = ctx.store.upsert_article(item, content_hash(item))
        ctx.store.ensure_pending(ctx.store.article(article_id), ["en", "fr"])
        report = CycleReport()
        translate(ctx, report)
        publish(ctx, report)
    finally:
        ctx.close()
    pages = {p: d for p, d in _published(root).items() if p.endswith(".html")}
    assert any(p.startswith("fr/") and "newsroom" in p for p in pages)
    for path, data in pages.items():
        assert not _live_handlers(data), path
        assert not re.search(rb"<img[^>]*src=.?x", data), path
    for name in ("fr/atom.xml", "fr/rss.xml"):
        for entry in feedparser.parse(_published(root)[name]).entries:
            html = entry.content[0].value if "content" in entry else entry.summary  # RSS: description
            assert not _live_handlers(html.encode()), name


@pytest.mark.parametrize("layers", [5, 6, 12])
def test_markup_escaped_many_times_is_plain_text_in_every_feed_field(
    make_instance: Callable[..., Path], layers: int
) -> None:
    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    bomb = escaped("<img src=x onerror=alert(1)>", layers)
    article = {"title": f"Harbour {bomb}", "summary": f"Works {bomb}", "tags": [f"port{bomb}"],
               "author": f"Ana {bomb}", "date": "2026-03-01T10:00:00Z", "body": "The harbour reopens."}  # fmt: skip
    (root / "articles" / "layers.json").write_text(json.dumps(article), encoding="utf-8")
    assert _run(root, "-q", "run", "--once") == 0
    files = _published(root)
    assert not [q for path, data in files.items() for q in published_problems(path, data)]
    for lang in ("en", "fr"):
        rss = feedparser.parse(files[f"{lang}/rss.xml"]).entries[0]
        atom = feedparser.parse(files[f"{lang}/atom.xml"]).entries[0]
        item = json.loads(files[f"{lang}/feed.json"])["items"][0]
        texts = [rss.title, rss.summary, atom.title, atom.summary, item["title"], item["summary"],
                 *item.get("tags", []), *(t.term for t in atom.get("tags", []))]  # fmt: skip
        assert all("<" not in text and "onerror" not in text for text in texts), texts


def test_titles_are_plain_once_at_entry_so_pages_feeds_and_engines_agree(
    make_instance: Callable[..., Path],
) -> None:
    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    (root / "articles" / "council.md").write_text(
        '---\ntitle: "<script>alert(1)</script>Council <b>Meeting</b>"\ndate: 2026-03-08T10:00:00+08:00\n---\n'
        "The council met.\n",
        encoding="utf-8",
    )
    assert _run(root, "-q", "run", "--once") == 0
    files = _published(root)
    index = files["index.html"].decode()
    assert "Council Meeting" in index and "&lt;" not in index and "script" not in index
    assert feedparser.parse(files["en/atom.xml"]).entries[0].title == "Council Meeting"
    # The engine got the clean title: the pseudo engine marks what it was given, nothing more.
    assert feedparser.parse(files["fr/atom.xml"]).entries[0].title == "[fr] Council Meeting"
    assert "[fr] Council Meeting" in files["index.html"].decode()


def test_the_landing_page_shows_a_stored_raw_title_as_plain_text(tmp_path: Path) -> None:
    from syndicator.localize import Catalogs
    from tests.conftest import REPO

    listing = LanguageListing(
        "en", "News", "All", (Headline("<script>x</script>Bridge <b>open</b>", "en/a.html"),)
    )
    page = build_index("en", "News", [listing], Catalogs(REPO / "locales")).decode()
    assert "Bridge open" in page and "&lt;" not in page and "<script" not in page


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ('<p><a href="javascript:alert(1)">x</a></p>', "<p>x</p>"),
        ("<p><a>plain <b>bold</b></a></p>", "<p>plain <b>bold</b></p>"),
        ('<p><a href="https://x.example/">ok</a></p>', '<p><a href="https://x.example/" rel="noopener noreferrer">ok</a></p>'),
        ('<p><img src="https://x.example/a.png"></p>', '<p><img src="https://x.example/a.png" alt=""></p>'),
        ('<p><img src="javascript:alert(1)" alt="a">tail</p>', "<p>tail</p>"),
        ('<p><img title="Map" src="https://x.example/m.png"></p>', '<p><img title="Map" src="https://x.example/m.png" alt="Map"></p>'),
        ('<figure><img src="https://x.example/p.png"><figcaption>The <b>port</b></figcaption></figure>',
         '<figure><img src="https://x.example/p.png" alt="The port"><figcaption>The <b>port</b></figcaption></figure>'),
        ('<p><img src="https://x.example/a.png" alt="kept"></p>', '<p><img src="https://x.example/a.png" alt="kept"></p>'),
    ],
)  # fmt: skip
def test_links_keep_an_href_and_images_an_alt(given: str, expected: str) -> None:
    assert clean_html(given) == expected


def test_published_pages_have_no_anchor_without_href_and_no_image_without_alt(
    make_instance: Callable[..., Path],
) -> None:
    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    body = ('<p><a href="javascript:alert(1)">bad link</a> <a name="x">anchor</a> '
            '<img src="https://news.example.org/a.png"> <img src="data:image/png;base64,AAAA" alt="d"></p>')  # fmt: skip
    article = {"title": "Links", "date": "2026-03-01T10:00:00Z", "body_html": body,
               "image": "https://news.example.org/lead.png"}  # fmt: skip
    (root / "articles" / "links.json").write_text(json.dumps(article), encoding="utf-8")
    assert _run(root, "-q", "run", "--once") == 0
    pages = {p: d for p, d in _published(root).items() if p.endswith(".html")}
    assert {"en/newsroom/links.html", "fr/newsroom/links.html"} <= set(pages)
    for path, data in pages.items():
        doc = html5lib.parse(data, treebuilder="lxml").getroot()
        anchors = doc.findall(f".//{HTML}a")
        images = doc.findall(f".//{HTML}img")
        assert all(a.get("href") for a in anchors), path
        assert all(i.get("alt") is not None and i.get("src") for i in images), path
        if "links" in path:
            assert len(images) == 2  # the lead image and the body's http image; the data: one is gone


def test_an_entry_page_shows_unrendered_content_as_text() -> None:
    # Only EntryBuilder's rendered Markup is placed as markup: any other string is escaped (safe by default).
    when = datetime(2026, 3, 1, tzinfo=UTC)
    entry = FeedEntry("g", "https://x.example/", "T", "", "<script>alert(1)</script>", when, when)
    page = entry_page(
        entry,
        entry.content_html,
        "en/s/g.html",
        "Site",
        "Latest",
        "All",
        "https://x.example/",
    ).decode()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_published_pages_use_the_stylesheet_not_inline_style(make_instance: Callable[..., Path]) -> None:
    root = make_instance(articles=["2026-03-03-night-market"], engine="pseudo", targets=("ar",))
    assert _run(root, "-q", "run", "--once") == 0
    files = _published(root)
    assert "style.css" in files
    for path, data in files.items():
        if path.endswith((".html", ".xsl")):
            assert b"<style" not in data and b" style=" not in data, path
            assert b'rel="stylesheet"' in data, path


def test_the_status_page_style_matches_its_csp_hash(make_instance: Callable[..., Path]) -> None:
    from syndicator.serve.headers import STATUS_POLICY
    from syndicator.status import collect_status

    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    page = render_status_page(collect_status(load_config(root / "config" / "syndicator.toml"))).decode()
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in STATUS_POLICY
