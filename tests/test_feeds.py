"""Feed documents built by syndicator.publish.feeds, checked by parsing them back."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import feedparser
import pytest
from lxml import etree

from syndicator.publish.feed_view import VIEW_NS, VIEW_PREFIX
from syndicator.publish.feeds import (
    ATOM_FILE,
    EMPTY_FEED_UPDATED,
    JSON_FILE,
    RSS_FILE,
    Alternate,
    FeedChannel,
    FeedEntry,
    build_all,
    build_atom,
    build_json_feed,
    build_rss,
    image_media_type,
)

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
SITE = "https://news.example.org/"
BEIJING = timezone(timedelta(hours=8))
CAIRO = timezone(timedelta(hours=2))

# Per channel language: texts, and the two other languages its entries link to.
TEXTS = {
    "zh": {
        "title": "新闻",
        "subtitle": "来自新闻编辑室的新闻",
        "entries": ["渡轮航线恢复运营", "市议会通过预算", "图书馆延长开放时间"],
        "summary": "简短摘要",
        "others": ("en", "ar"),
        "dir": "ltr",
    },
    "ar": {
        "title": "أخبار",
        "subtitle": "أخبار من غرفة الأخبار",
        "entries": ["استئناف خط العبّارة", "المجلس يقرّ الميزانية", "المكتبة تمدد ساعات العمل"],
        "summary": "ملخص قصير",
        "others": ("en", "zh"),
        "dir": "rtl",
    },
}
SLUGS = ["ferry-line", "budget", "library"]


def make_channel(language: str) -> FeedChannel:
    """Return a channel for one of the TEXTS languages."""
    text = TEXTS[language]
    return FeedChannel(
        language=language,
        title=str(text["title"]),
        subtitle=str(text["subtitle"]),
        site_link=SITE,
        feed_base=f"{SITE}feeds/{language}/",
        author="Newsroom",
        direction=str(text["dir"]),
        alternates=tuple(
            Alternate(other, f"{SITE}feeds/{other}/atom.xml", other.upper(), "application/atom+xml")
            for other in text["others"]
        ),
    )


def make_entries(language: str) -> list[FeedEntry]:
    """Return three entries: different time zones, one with an image, one with an e-mail author."""
    text = TEXTS[language]
    rtl = ' dir="rtl"' if text["dir"] == "rtl" else ""
    published = [
        datetime(2026, 3, 1, 18, 30, tzinfo=BEIJING),  # 10:30 UTC
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 2, 27, 12, 0, tzinfo=CAIRO),  # 10:00 UTC
    ]
    entries = []
    for i, (slug, title) in enumerate(zip(SLUGS, text["entries"], strict=True)):
        entries.append(
            FeedEntry(
                guid=f"tag:news.example.org,2026:newsroom/{slug}/{language}",
                link=f"{SITE}{language}/{slug}.html",
                title=title,
                summary=f"{text['summary']} {i}",
                content_html=f"<p{rtl}>{title} — «Привет» 渡轮</p>",
                published=published[i],
                updated=published[i] + timedelta(hours=1),
                author="editor@news.example.org (Editor)" if i == 1 else "Li Wei",
                categories=("transport", "city") if i == 0 else ("city",),
                image=f"{SITE}img/{slug}.png" if i == 0 else "",
                alternates=tuple(
                    Alternate(other, f"{SITE}{other}/{slug}.html", other.upper()) for other in text["others"]
                ),
            )
        )
    return entries


@pytest.fixture(params=sorted(TEXTS))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def built(language: str) -> dict[str, bytes]:
    return build_all(make_channel(language), make_entries(language))


def parse(data: bytes) -> Any:
    result = feedparser.parse(data)
    assert result.bozo == 0, result.get("bozo_exception")
    return result


def test_build_all_names_the_three_files(built: dict[str, bytes]) -> None:
    assert sorted(built) == sorted([RSS_FILE, ATOM_FILE, JSON_FILE])


@pytest.mark.parametrize("name", [RSS_FILE, ATOM_FILE])
def test_xml_feeds_parse_with_language_ids_and_order(
    built: dict[str, bytes], language: str, name: str
) -> None:
    feed = parse(built[name])
    assert feed.feed.language == language
    assert feed.feed.title == TEXTS[language]["title"]
    ids = [e.id for e in feed.entries]
    assert len(ids) == 3 and len(set(ids)) == 3
    # Newest first by published, whatever the time zone it was given in.
    assert [i.rsplit("/", 2)[1] for i in ids] == ["budget", "ferry-line", "library"]
    assert all(i.endswith(f"/{language}") for i in ids)


@pytest.mark.parametrize("name", [RSS_FILE, ATOM_FILE])
def test_entry_alternates_have_hreflang(built: dict[str, bytes], language: str, name: str) -> None:
    feed = parse(built[name])
    others = TEXTS[language]["others"]
    for entry in feed.entries:
        slug = entry.id.rsplit("/", 2)[1]
        hreflang = {link["hreflang"]: link["href"] for link in entry.links if "hreflang" in link}
        mine = {language: f"{SITE}{language}/{slug}.html"} if name == ATOM_FILE else {}
        assert hreflang == {other: f"{SITE}{other}/{slug}.html" for other in others} | mine
        # The entry's own page is the one alternate without hreflang.
        own = [ln for ln in entry.links if ln.get("rel") == "alternate" and "hreflang" not in ln]
        assert [ln["href"] for ln in own] == [f"{SITE}{language}/{slug}.html"]
        # feedparser's entry.link is the last HTML alternate in document order (newsboat's too): the
        # RSS writer puts the hreflang links before <link>. In Atom the own page is also FIRST, for
        # readers that take the first (rsstail), and last again with its own hreflang.
        assert entry.link == f"{SITE}{language}/{slug}.html"
        if name == ATOM_FILE:
            alternates = [ln for ln in entry.links if ln.get("rel") == "alternate"]
            assert alternates[0] == own[0] and alternates[-1]["href"] == own[0]["href"]
            assert alternates[-1]["hreflang"] == language


@pytest.mark.parametrize("name", [RSS_FILE, ATOM_FILE])
def test_channel_alternates_and_self_link(built: dict[str, bytes], language: str, name: str) -> None:
    feed = parse(built[name])
    links = feed.feed.links
    hreflang = {ln["hreflang"]: ln["href"] for ln in links if "hreflang" in ln}
    assert hreflang == {other: f"{SITE}feeds/{other}/atom.xml" for other in TEXTS[language]["others"]}
    selfs = [ln for ln in links if ln.get("rel") == "self"]
    assert [ln["href"] for ln in selfs] == [f"{SITE}feeds/{language}/{name}"]
    assert selfs[0]["type"] == ("application/rss+xml" if name == RSS_FILE else "application/atom+xml")
    assert feed.feed.link == SITE


@pytest.mark.parametrize("name", [RSS_FILE, ATOM_FILE])
def test_dates_are_utc(built: dict[str, bytes], name: str) -> None:
    feed = parse(built[name])
    first = feed.entries[1]  # ferry-line, given as 18:30 +08:00
    assert tuple(first.published_parsed)[:6] == (2026, 3, 1, 10, 30, 0)
    if name == RSS_FILE:
        assert first.published == "Sun, 01 Mar 2026 10:30:00 +0000"
        assert feed.feed.updated == "Mon, 02 Mar 2026 10:00:00 +0000"  # newest entry updated
    else:
        assert first.published == "2026-03-01T10:30:00+00:00"
        assert first.updated == "2026-03-01T11:30:00+00:00"
        assert feed.feed.updated == "2026-03-02T10:00:00+00:00"


@pytest.mark.parametrize("name", [RSS_FILE, ATOM_FILE])
def test_categories_enclosure_and_authors(built: dict[str, bytes], name: str) -> None:
    feed = parse(built[name])
    budget, ferry, library = feed.entries
    assert [t.term for t in ferry.tags] == ["transport", "city"]
    assert [t.term for t in library.tags] == ["city"]
    enclosure = f"{SITE}img/ferry-line.png"
    assert [e.href for e in ferry.enclosures] == [enclosure]
    assert ferry.enclosures[0].type == "image/png"
    if name == RSS_FILE:
        assert ferry.enclosures[0].length == "0"
    assert not budget.get("enclosures") and not library.get("enclosures")
    assert ferry.author == "Li Wei"
    assert "editor@news.example.org" in budget.author
    assert feed.entries[0].summary.endswith(" 1")
    assert ferry.content[0].value.startswith("<p")


def test_json_feed(built: dict[str, bytes], language: str) -> None:
    data = built[JSON_FILE]
    feed = json.loads(data.decode("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["language"] == language
    assert feed["feed_url"] == f"{SITE}feeds/{language}/feed.json"
    assert feed["home_page_url"] == SITE
    assert feed["authors"] == [{"name": "Newsroom"}]
    assert feed["_syndicator"]["direction"] == TEXTS[language]["dir"]
    items = feed["items"]
    assert [i["id"].rsplit("/", 2)[1] for i in items] == ["budget", "ferry-line", "library"]
    ferry = items[1]
    assert ferry["date_published"] == "2026-03-01T10:30:00+00:00"
    assert ferry["date_modified"] == "2026-03-01T11:30:00+00:00"
    assert ferry["tags"] == ["transport", "city"]
    assert ferry["image"] == f"{SITE}img/ferry-line.png"
    assert ferry["url"] == f"{SITE}{language}/ferry-line.html"
    assert {"title", "summary", "content_html", "authors"} <= ferry.keys()
    translations = ferry["_syndicator"]["translations"]
    assert [(t["language"], t["url"]) for t in translations] == [
        (other, f"{SITE}{other}/ferry-line.html") for other in TEXTS[language]["others"]
    ]
    assert "image" not in items[0]
    assert items[0]["authors"] == [{"name": "Editor", "url": "mailto:editor@news.example.org"}]
    # Characters, not \\u escapes.
    assert str(TEXTS[language]["entries"][0]).encode("utf-8") in data


def test_atom_tree_namespaces_and_rfc4287_links(built: dict[str, bytes], language: str) -> None:
    root = etree.fromstring(built[ATOM_FILE])
    assert root.tag == f"{{{ATOM}}}feed"
    assert root.nsmap == {
        None: ATOM,
        VIEW_PREFIX: VIEW_NS,
    }  # Atom, and the styled view's lines (feed_view.py)
    assert root.get(XML_LANG) == language
    assert all(
        isinstance(el.tag, str) and el.tag.startswith((f"{{{ATOM}}}", f"{{{VIEW_NS}}}"))
        for el in root.iter()
        if el is not root
    )
    assert b"ns0:" not in built[ATOM_FILE]
    assert root.findtext(f"{{{ATOM}}}id") == f"{SITE}feeds/{language}/atom.xml"
    assert root.findtext(f"{{{ATOM}}}author/{{{ATOM}}}name") == "Newsroom"
    for parent in [root, *root.iterfind(f"{{{ATOM}}}entry")]:
        alternates = Counter(
            (ln.get("type"), ln.get("hreflang"))
            for ln in parent.iterfind(f"{{{ATOM}}}link")
            if ln.get("rel", "alternate") == "alternate"
        )
        assert alternates and max(alternates.values()) == 1
    for entry in root.iterfind(f"{{{ATOM}}}entry"):
        assert entry.find(f"{{{ATOM}}}summary").get("type") == "text"
        assert entry.find(f"{{{ATOM}}}content").get("type") == "html"
        assert entry.findtext(f"{{{ATOM}}}published")
        # feedgen 1.0 loses rel/type on entry links; every one must carry them.
        assert all(ln.get("rel") and ln.get("type") for ln in entry.iterfind(f"{{{ATOM}}}link"))


def test_rss_tree(built: dict[str, bytes], language: str) -> None:
    root = etree.fromstring(built[RSS_FILE])
    channel = root.find("channel")
    assert channel.findtext("link") == SITE
    assert channel.findtext("language") == language
    items = channel.findall("item")
    for item in items:
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false"
        assert guid.text.startswith("tag:news.example.org,2026:")
        assert item.findtext("description")
        assert item.findtext(f"{{{CONTENT}}}encoded").startswith("<p")
    # Name-only author: dc:creator, as RSS <author> must be an e-mail address.
    budget, ferry, _ = items
    assert ferry.findtext(f"{{{DC}}}creator") == "Li Wei" and ferry.find("author") is None
    assert budget.findtext("author") == "editor@news.example.org (Editor)"


def test_non_ascii_written_as_characters(built: dict[str, bytes], language: str) -> None:
    for name in (RSS_FILE, ATOM_FILE):
        data = built[name]
        assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        assert str(TEXTS[language]["title"]).encode("utf-8") in data
        assert "«Привет» 渡轮".encode() in data
        assert b"&#" not in data


def test_output_is_deterministic_and_independent_of_input_order(language: str) -> None:
    channel = make_channel(language)
    entries = make_entries(language)
    first = build_all(channel, entries)
    shuffled = entries[:]
    random.Random(4).shuffle(shuffled)
    assert build_all(channel, entries) == first
    assert build_all(channel, list(reversed(entries))) == first
    assert build_all(channel, shuffled) == first


def test_ties_on_published_are_ordered_by_guid() -> None:
    channel = make_channel("zh")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [
        FeedEntry(guid=g, link="", title=g, summary="", content_html="", published=when, updated=when)
        for g in ("b", "c", "a")
    ]
    items = json.loads(build_json_feed(channel, entries))["items"]
    assert [i["id"] for i in items] == ["a", "b", "c"]


def test_empty_feed_is_stable_and_valid() -> None:
    channel = make_channel("ar")
    rss, atom = build_rss(channel, []), build_atom(channel, [])
    assert rss == build_rss(channel, []) and atom == build_atom(channel, [])
    assert b"lastBuildDate" not in rss
    assert parse(atom).feed.updated == EMPTY_FEED_UPDATED.isoformat()
    assert parse(rss).entries == []
    assert json.loads(build_json_feed(channel, []))["items"] == []


def test_duplicate_alternates_are_dropped() -> None:
    channel = make_channel("zh")
    entry = make_entries("zh")[0]
    doubled = (*entry.alternates, Alternate("en", f"{SITE}en/other.html"), Alternate("", "x"))
    atom = parse(build_atom(channel, [replace(entry, alternates=doubled)]))
    hreflangs = [ln["hreflang"] for ln in atom.entries[0].links if "hreflang" in ln]
    assert hreflangs == ["en", "ar", "zh"]  # zh: the entry's own page, last


def test_xml_invalid_characters_are_removed() -> None:
    channel = make_channel("zh")
    entry = make_entries("zh")[0]
    dirty = replace(entry, title="bad\x0bchar\x00")
    for data in build_all(channel, [dirty]).values():
        assert b"badchar" in data


@pytest.mark.parametrize(
    "change",
    [
        {"published": datetime(2026, 1, 1)},  # naive
        {"guid": ""},
        {"title": ""},
    ],
)
def test_invalid_entries_are_refused(change: dict[str, Any]) -> None:
    entry = make_entries("zh")[0]
    with pytest.raises(ValueError):
        build_all(make_channel("zh"), [replace(entry, **change)])


def test_duplicate_guids_are_refused() -> None:
    entry = make_entries("zh")[0]
    with pytest.raises(ValueError, match="duplicate"):
        build_rss(make_channel("zh"), [entry, entry])


def test_channel_contract_is_checked() -> None:
    channel = make_channel("zh")
    with pytest.raises(ValueError, match="feed_base"):
        build_atom(replace(channel, feed_base=f"{SITE}feeds/zh"), [])
    with pytest.raises(ValueError, match="direction"):
        build_atom(replace(channel, direction="up"), [])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.org/a/photo.JPG", "image/jpeg"),
        ("https://x.org/a/photo.webp?w=640#top", "image/webp"),
        ("https://x.org/a/photo.svg", "image/svg+xml"),
        ("https://x.org/image/1234", "application/octet-stream"),
        ("https://x.org/a.b/photo", "application/octet-stream"),
    ],
)
def test_image_media_type(url: str, expected: str) -> None:
    assert image_media_type(url) == expected
