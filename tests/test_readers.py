"""Published feeds as real consumers see them: jing (RFC 4287 RELAX NG), feedparser, newsboat, XSLT.

One instance is published through the CLI (pseudo engine, originals in en, zh, ar and ru, a current feed
of 4 entries so archives exist) and then checked by each consumer.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicator.cli import main
from tests.conftest import DATA, build_instance
from tests.support.feedserver import rsstail, serve_folder

LANGUAGES = ("en", "fr", "ar", "zh", "ru")
SCHEMA = DATA / "schema" / "atom.rnc"
MAX_ENTRIES = 4
ARTICLES = 6  # tests/data/articles (3, en) + tests/data/articles-intl (zh, ar, ru)


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The feeds folder of a published instance."""
    root = build_instance(
        tmp_path_factory.mktemp("readers") / "instance",
        folders=("articles", "articles-intl"),
        targets=("fr", "ar", "zh", "ru"),
        engine="pseudo",
        extra=f"\n[publish]\nmax_entries = {MAX_ENTRIES}\n",
    )
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    return root / "feeds"


def _atom_documents(feeds: Path) -> list[Path]:
    return sorted(feeds.glob("*/atom.xml")) + sorted(feeds.glob("*/archive/*/atom.xml"))


def test_every_language_has_current_feeds_and_an_archive(feeds: Path) -> None:
    for lang in LANGUAGES:
        for name in (
            "rss.xml",
            "atom.xml",
            "feed.json",
            "feed.xsl",
            "archive/1/atom.xml",
            "archive/1/rss.xml",
        ):
            assert (feeds / lang / name).is_file(), f"{lang}/{name}"


@pytest.mark.skipif(shutil.which("jing") is None, reason="jing is not installed (Debian package jing)")
def test_atom_validates_against_rfc4287_relax_ng(feeds: Path) -> None:
    documents = _atom_documents(feeds)
    assert len(documents) == 2 * len(LANGUAGES)
    result = subprocess.run(
        ["jing", "-c", str(SCHEMA), *map(str, documents)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("jing") is None, reason="jing is not installed (Debian package jing)")
def test_jing_rejects_an_invalid_atom_document(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', encoding="utf-8")
    result = subprocess.run(["jing", "-c", str(SCHEMA), str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "updated" in result.stdout


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_feedparser_reads_own_links_and_unique_guids(feeds: Path, lang: str, name: str) -> None:
    feed = feedparser.parse((feeds / lang / name).read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.language == lang
    assert len(feed.entries) == MAX_ENTRIES
    for entry in feed.entries:
        # The entry's own page, not one of its hreflang alternates (feedparser takes the last alternate).
        assert entry.link == entry.id
        assert entry.link.startswith(f"https://news.example.org/feeds/{lang}/")
        langs = {link.hreflang for link in entry.links if link.get("hreflang")}
        # Every translation; in Atom itself too (the last link, so feedparser and newsboat open it).
        assert langs == set(LANGUAGES) - ({lang} if name == "rss.xml" else set())
    prev = [link.href for link in feed.feed.links if link.rel == "prev-archive"]
    assert prev == [f"https://news.example.org/feeds/{lang}/archive/1/{name}"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_archive_documents_hold_the_older_entries(feeds: Path, lang: str) -> None:
    current = feedparser.parse((feeds / lang / "atom.xml").read_bytes())
    archive_bytes = (feeds / lang / "archive" / "1" / "atom.xml").read_bytes()
    archive = feedparser.parse(archive_bytes)
    assert not archive.bozo
    ids = [e.id for e in current.entries] + [e.id for e in archive.entries]
    assert len(ids) == len(set(ids)) == ARTICLES
    root = etree.fromstring(archive_bytes)
    assert root.find("{http://purl.org/syndication/history/1.0}archive") is not None
    rels = {link.rel: link.href for link in archive.feed.links}
    assert rels["current"] == f"https://news.example.org/feeds/{lang}/atom.xml"
    assert rels["self"] == f"https://news.example.org/feeds/{lang}/archive/1/atom.xml"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_json_feed(feeds: Path, lang: str) -> None:
    # feedparser 6.0 does not read JSON Feed; the document is checked against the 1.1 spec's fields.
    feed = json.loads((feeds / lang / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["language"] == lang
    assert feed["feed_url"] == f"https://news.example.org/feeds/{lang}/feed.json"
    assert feed["next_url"] == f"https://news.example.org/feeds/{lang}/archive/1/feed.json"
    items = feed["items"]
    assert len(items) == MAX_ENTRIES and len({i["id"] for i in items}) == MAX_ENTRIES
    for item in items:
        assert item["url"] == item["id"] and item["title"] and item["content_html"]
        assert {t["language"] for t in item["_syndicator"]["translations"]} == set(LANGUAGES) - {lang}


def test_rtl_language_content_and_lead_image(feeds: Path) -> None:
    feed = feedparser.parse((feeds / "ar" / "atom.xml").read_bytes())
    port = next(e for e in feed.entries if "port-expansion" in e.id)
    assert port.title == "توسيع الميناء يبدأ الشهر المقبل"
    assert 'dir="rtl"' in port.content[0].value
    assert [link.href for link in port.links if link.rel == "enclosure"] == [
        "https://news.example.org/img/port.png"
    ]
    assert (
        "<img" in port.content[0].value
        and 'src="https://news.example.org/img/port.png"' in port.content[0].value
    )


def _newsboat(feeds: Path, urls: list[str], home: Path) -> list[tuple[str, str, str, str]]:
    """Run newsboat non-interactively (reload, print-unread); return its cached (feed, title, url, guid)."""
    home.mkdir(parents=True)
    (home / "urls").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (home / "config").write_text("auto-reload no\nshow-read-feeds yes\n", encoding="utf-8")
    cache = home / "cache.db"
    result = subprocess.run(
        [
            "newsboat",
            "-u",
            str(home / "urls"),
            "-c",
            str(cache),
            "-C",
            str(home / "config"),
            "-x",
            "reload",
            "print-unread",
        ],
        env={"HOME": str(home), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(urls) * MAX_ENTRIES} unread articles" in result.stdout
    with sqlite3.connect(cache) as conn:
        return list(conn.execute("SELECT feedurl, title, url, guid FROM rss_item"))


@pytest.mark.skipif(
    shutil.which("newsboat") is None, reason="newsboat is not installed (Debian package newsboat)"
)
@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_newsboat_shows_every_language_without_merging(feeds: Path, tmp_path: Path, name: str) -> None:
    with serve_folder(feeds) as base:
        urls = [f"{base}{lang}/{name}" for lang in LANGUAGES]
        items = _newsboat(feeds, urls, tmp_path / "home")
    per_feed = Counter(feed for feed, *_ in items)
    # Every language's entries, none merged into another language's (GUIDs differ per language).
    assert per_feed == {url: MAX_ENTRIES for url in urls}
    titles = {feed.rsplit("/", 2)[-2]: {title for f, title, *_ in items if f == feed} for feed in urls}
    assert "元宵灯会在老城区举行" in titles["zh"]
    assert "توسيع الميناء يبدأ الشهر المقبل" in titles["ar"]
    assert "Шахматный клуб открылся в библиотеке" in titles["ru"]
    assert any("[zh]" in t and "Шахматный" in t for t in titles["zh"])  # a translation from ru, in zh
    for feed, _title, url, guid in items:
        lang = feed.rsplit("/", 2)[-2]
        # The link newsboat opens is the entry's own page in the feed's language.
        assert url == guid and url.startswith(f"https://news.example.org/feeds/{lang}/"), (feed, url)


@pytest.mark.skipif(
    shutil.which("rsstail") is None, reason="rsstail is not installed (Debian package rsstail)"
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_rsstail_opens_each_entry_in_the_feeds_language(feeds: Path, lang: str) -> None:
    """rsstail (libmrss) takes an Atom entry's FIRST alternate link, feedparser and newsboat the last."""
    output = rsstail(feeds, f"{lang}/atom.xml", "-l")
    links = [line.strip() for line in output.splitlines() if line.strip().startswith("https://")]
    assert len(links) == MAX_ENTRIES, output
    assert all(link.startswith(f"https://news.example.org/feeds/{lang}/") for link in links), links


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_xsl_stylesheet_renders_the_feed_for_browsers(feeds: Path, name: str) -> None:
    data = (feeds / "ar" / name).read_bytes()
    assert b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>' in data.splitlines()[1]
    transform = etree.XSLT(etree.parse(str(feeds / "ar" / "feed.xsl")))
    page = str(transform(etree.fromstring(data)))
    assert 'dir="rtl"' in page and 'lang="ar"' in page
    assert "توسيع الميناء يبدأ الشهر المقبل" in page
    # Links into the site are relative (a local preview stays local), back to the landing page too.
    assert 'href="newsroom/port-expansion.html"' in page
    assert f'href="archive/1/{name}"' in page
    assert 'href="../index.html"' in page and "https://news.example.org" not in page
    # Each entry shows its localized date line, its translation notice and its summary.
    html = etree.fromstring(page.encode(), etree.HTMLParser())
    items = html.findall(".//ol/li")
    assert items and all(li.find("p[@class='meta']") is not None for li in items)
    notices = ["".join(p.itertext()) for p in html.iterfind(".//ol/li/p[@class='notice']")]
    assert notices and all(
        "تُرجمت هذه المقالة آليًا" in n for n in notices
    )  # translations; originals have none
    archive = (feeds / "ar" / "archive" / "1" / name).read_bytes()
    assert b'href="../../feed.xsl"' in archive.splitlines()[1]
    old = str(transform(etree.fromstring(archive)))
    assert 'href="../../newsroom/' in old and 'href="../../../index.html"' in old


def test_opml_lists_every_feed_titled_in_its_language(feeds: Path) -> None:
    opml = etree.parse(str(feeds / "index.opml")).getroot()
    assert opml.get("version") == "2.0"
    outlines = opml.findall("body/outline/outline")
    assert {o.get("xmlUrl") for o in outlines} == {
        f"https://news.example.org/feeds/{lang}/{name}"
        for lang in LANGUAGES
        for name in ("rss.xml", "atom.xml")  # JSON Feed has no OPML type (publish/site.py)
    }
    fr = next(o for o in outlines if o.get("xmlUrl", "").endswith("/fr/rss.xml"))
    assert fr.get("text").startswith("Salle de presse (Français")
    ar = next(o for o in outlines if o.get("xmlUrl", "").endswith("/ar/atom.xml"))
    assert ar.get("text").startswith("غرفة الأخبار (العربية")


def test_landing_page_lists_languages_by_native_name(feeds: Path) -> None:
    page = (feeds / "index.html").read_text(encoding="utf-8")
    for native in ("English", "Français", "العربية", "中文", "Русский"):
        assert f"<h2>{native}</h2>" in page
    assert '<section lang="ar" dir="rtl">' in page
    assert 'href="fr/rss.xml"' in page and 'href="zh/atom.xml"' in page and 'href="ru/feed.json"' in page
    assert "元宵灯会在老城区举行" in page  # a latest headline
    assert 'href="zh/newsroom/lantern-festival.html"' in page
