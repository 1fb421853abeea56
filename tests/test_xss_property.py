"""Whatever any source sends in any field, no published document carries live markup or a script URL.

Hypothesis puts hostile strings (markup, markup escaped up to eight times, javascript:/data: URLs, quotes,
control characters, template syntax) into every article field of every source kind: the drop folder's
Markdown, JSON and saved HTML files, an RSS feed and a web site, both served by a real HTTP server on
127.0.0.1. Each example runs a real cycle (poll, validate, store, translate with the pseudo engine into
Arabic, publish) and every file the cycle wrote is parsed as a browser or reader would
(tests/support/xss.py: html5lib for HTML, lxml for XML): no element or attribute outside the allow-list,
no event handler, no javascript:/data: URL, no markup in a plain-text field, no garbage language tag.
The status page is checked the same way. Examples are bounded by the Hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicator.config import load_config
from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect, open_context, publish, translate
from syndicator.serve.statuspage import render_status_page
from syndicator.status import collect_status
from tests.conftest import build_instance
from tests.support.hostile import hostile, maybe, with_hostile
from tests.support.instances import FAST_HTTP, source_toml
from tests.support.upstream import Reply, Upstream
from tests.support.xss import PAGE_ELEMENTS, html_document_problems, published_problems

DATES = st.sampled_from(
    ["2026-03-01T10:00:00Z", "2026-02-11T08:30:00+08:00", "2025-12-31T23:59:59-05:00", "2026-03-05"]
)
RFC822 = st.sampled_from(["Sun, 01 Mar 2026 10:00:00 +0000", "Wed, 11 Feb 2026 08:30:00 +0800"])
LANGUAGES = st.sampled_from(["en", "fr", "ar", "fr_FR", "en-GB", "de"])
URLS = st.sampled_from(["https://news.example.org/a/1", "http://example.com/x?y=1&z=2", ""])
IMAGES = st.sampled_from(["https://news.example.org/i.png", "http://example.com/p.jpg", ""])


@st.composite
def articles(draw: st.DrawFn) -> dict[str, object]:
    """One article's fields, each valid or hostile."""
    return {
        "title": draw(st.one_of(with_hostile("Harbour news"), hostile)),
        "date": draw(maybe(DATES)),
        "rfc822": draw(maybe(RFC822)),
        "language": draw(maybe(LANGUAGES)),
        "summary": draw(hostile),
        "author": draw(maybe(st.just("Ana Ruiz"))),
        "tags": draw(st.lists(maybe(st.just("culture")), max_size=3)),
        "image": draw(maybe(IMAGES)),
        "url": draw(maybe(URLS)),
        "body": draw(st.one_of(with_hostile("The council met on Monday."), hostile)),
        "id": draw(maybe(st.just("story"))),
    }


@dataclass
class World:
    """One instance with a folder, a feed and a web source, and the upstream server behind the last two."""

    root: Path
    ctx: Context
    upstream: Upstream
    count: Iterator[int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    upstream = Upstream()
    sources = source_toml("wire", "feed", upstream.url("/feed.xml")) + source_toml(
        "site", "web", upstream.url("/news/")
    )
    root = build_instance(
        tmp_path_factory.mktemp("xss") / "instance",
        articles=[],
        engine="pseudo",
        targets=("ar",),  # one target (right-to-left) keeps an example cheap; every language is built alike
        # Short feeds: each example re-parses the documents it changed, not 50 entries of each.
        extra=FAST_HTTP + "\n[publish]\nmax_entries = 4\n" + sources,
    )
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    try:
        yield World(root, ctx, upstream, itertools.count())
    finally:
        ctx.close()
        upstream.close()


def _yaml_safe(text: str) -> str:
    # YAML cannot carry every code point (lone surrogates, some controls); what it cannot carry, it drops.
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t") if text else text


def _markdown_file(a: dict[str, object], n: int) -> str:
    meta = {k: a[k] for k in ("title", "date", "language", "summary", "author", "tags", "image", "url")}
    meta["id"] = f"{a['id']}-md-{n}" if a["id"] == "story" else a["id"]
    clean = json.loads(json.dumps(meta))  # plain types only
    clean = {
        k: ([_yaml_safe(t) for t in v] if isinstance(v, list) else _yaml_safe(str(v)))
        for k, v in clean.items()
    }
    return "---\n" + yaml.safe_dump(clean, allow_unicode=True) + "---\n" + str(a["body"]) + "\n"


def _json_file(a: dict[str, object], n: int) -> str:
    meta = {k: a[k] for k in ("title", "date", "language", "summary", "author", "tags", "image", "url")}
    meta["id"] = f"{a['id']}-json-{n}" if a["id"] == "story" else a["id"]
    meta["body_html"] = a["body"]
    return json.dumps(meta)  # ASCII escapes: "\\ud800" decodes to a lone surrogate, which must not crash


def _page(a: dict[str, object], n: int) -> str:
    """A saved or served web page: hostile values raw in the text, escaped (or not) in attributes."""
    esc = html.escape
    return (
        f'<!DOCTYPE html><html lang="{esc(str(a["language"]))}"><head><title>{a["title"]}</title>'
        f'<meta property="article:published_time" content="{esc(str(a["date"]))}">'
        f'<meta name="author" content="{a["author"]}">'
        f'<meta property="og:image" content="{esc(str(a["image"]))}">'
        f"</head><body><article><h1>{a['title']}</h1><p>{a['body']}</p>"
        f"<p>The harbour council met on Monday evening to discuss the repairs of the old bridge, story {n}.</p>"
        f"<p>{a['summary']}</p></article></body></html>"
    )


_XML_OK = "".join(chr(c) for c in (0x9, 0xA, 0xD))


def _xml_text(text: str) -> str:
    return "".join(
        ch for ch in text if ch in _XML_OK or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd")
    )


def _feed(a: dict[str, object], n: int) -> bytes:
    """An RSS feed with one item whose every field comes from `a` (content:encoded holds the body)."""
    content = "http://purl.org/rss/1.0/modules/content/"
    media = "http://search.yahoo.com/mrss/"
    rss = etree.Element("rss", version="2.0", nsmap={"content": content, "media": media})
    channel = etree.SubElement(rss, "channel")
    for name, value in (("title", "Wire"), ("link", "http://127.0.0.1/"), ("description", "d")):
        etree.SubElement(channel, name).text = value
    item = etree.SubElement(channel, "item")
    fields = {
        "title": a["title"],
        "link": a["url"],
        "guid": f"wire-{n}" if a["id"] == "story" else a["id"],
        "description": a["summary"],
        "pubDate": a["rfc822"],
        "author": a["author"],
    }
    for name, value in fields.items():
        etree.SubElement(item, name).text = _xml_text(str(value))
    for tag in a["tags"]:  # type: ignore[attr-defined]
        etree.SubElement(item, "category").text = _xml_text(str(tag))
    etree.SubElement(item, f"{{{content}}}encoded").text = _xml_text(str(a["body"]))
    etree.SubElement(item, f"{{{media}}}content", url=_xml_text(str(a["image"])), medium="image")
    data: bytes = etree.tostring(rss, xml_declaration=True, encoding="UTF-8")
    return data


def _cycle(world: World, a: dict[str, object]) -> CycleReport:
    n = next(world.count)
    folder = world.root / "articles"
    files = {
        folder / f"m{n}.md": _markdown_file(a, n),
        folder / f"j{n}.json": _json_file(a, n),
        folder / f"h{n}.html": _page(a, n),
    }
    for path, text in files.items():
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    up = world.upstream
    up.set("/feed.xml", Reply(body=_feed(a, n)))
    link_text = html.escape(str(a["title"]))
    up.set(
        "/news/",
        Reply(
            body=f'<html><body><a href="/news/a{n}.html">{link_text}</a></body></html>'.encode(
                "utf-8", "surrogatepass"
            ),
            content_type="text/html; charset=utf-8",
        ),
    )
    up.set(
        f"/news/a{n}.html",
        Reply(body=_page(a, n).encode("utf-8", "surrogatepass"), content_type="text/html; charset=utf-8"),
    )
    report = CycleReport()
    try:
        collect(world.ctx, report, force=True)
        translate(world.ctx, report)
        publish(world.ctx, report)
    finally:
        for path in files:  # polls stay cheap: the stored articles remain, the files go
            path.unlink()
    return report


@settings(
    max_examples=max(10, settings.default.max_examples // 2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(article=articles())
def test_no_hostile_field_reaches_any_published_document(world: World, article: dict[str, object]) -> None:
    report = _cycle(world, article)
    feeds = world.root / "feeds"
    problems: list[str] = []
    for relpath in report.written:
        problems += published_problems(relpath, (feeds / relpath).read_bytes())
    status = render_status_page(collect_status(world.ctx.config, history=True))
    problems += html_document_problems(status, "/status", PAGE_ELEMENTS)
    assert not problems, "\n".join(problems[:20])
    for problem in report.problems:  # bad input is reported by name
        assert problem.origin and problem.message


def test_every_published_file_kind_is_checked(world: World) -> None:
    """The oracle knows every kind of file the publisher writes (a new kind must get a check)."""
    _cycle(world, {"title": "Harbour", "date": "2026-03-01T10:00:00Z", "rfc822": "Sun, 01 Mar 2026 10:00:00 +0000",
                   "language": "en", "summary": "s", "author": "a", "tags": ["culture"], "image": "",
                   "url": "", "body": "b", "id": "story"})  # fmt: skip
    feeds = world.root / "feeds"
    files = sorted(p for p in feeds.rglob("*") if p.is_file() and not p.name.startswith("."))
    kinds = {p.suffix for p in files}
    assert {".html", ".xml", ".json", ".xsl", ".opml", ".css"} <= kinds
    problems = [q for p in files for q in published_problems(p.relative_to(feeds).as_posix(), p.read_bytes())]
    assert not problems, "\n".join(problems[:20])
