"""No dead ends for a new user: an empty language says why in its language (feeds, styled view, landing page),
the styled view shows each entry's date, notice and summary and leads back to the landing page, and every
link from a published page to what we serve is relative, so a local preview stays local.

Real pipeline runs through the CLI (argos without models, Apertium without the pair, the pseudo engine),
the real catalogs, lxml's XSLT for the styled view, html5lib for pages.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import html5lib
import pytest
from babel.messages.pofile import read_po
from lxml import etree

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.localize import Catalogs
from syndicator.models import DONE, FAILED, NO_MODEL, PENDING
from syndicator.publish import empty
from syndicator.publish.pages import relative_url
from tests.conftest import DATA, REPO

FEEDS_URL = "https://news.example.org/feeds/"
HTML = "{http://www.w3.org/1999/xhtml}"


def _run(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _catalogs(root: Path) -> Catalogs:
    return Catalogs(load_config(root / "config" / "syndicator.toml").publish.locales_dir)


def _styled(feeds: Path, relpath: str) -> str:
    """What a browser shows for a feed: the document through its language's feed.xsl."""
    lang = relpath.split("/", 1)[0]
    transform = etree.XSLT(etree.parse(str(feeds / lang / "feed.xsl")))
    return str(transform(etree.parse(str(feeds / relpath))))


def _section(index: bytes, lang: str) -> str:
    """The landing page's section of one language, as text."""
    doc = html5lib.parse(index, treebuilder="lxml").getroot()
    (section,) = [s for s in doc.iter(f"{HTML}section") if s.get("lang") == lang]
    return " ".join("".join(section.itertext()).split())


# -- the reason, from the store's state -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("articles", "counts", "engine", "source", "expected"),
    [
        (0, {}, "argos", True, empty.NO_ARTICLES),
        (0, {}, "argos", False, empty.NO_ARTICLES),
        (3, {}, "argos", True, empty.NO_ARTICLES),  # originals, none public
        (3, {}, "argos", False, empty.PENDING_TRANSLATION),  # a language just added: not even queued yet
        (3, {PENDING: 3}, "argos", False, empty.PENDING_TRANSLATION),
        (3, {PENDING: 1, NO_MODEL: 2}, "argos", False, empty.PENDING_TRANSLATION),  # a model just installed
        (3, {NO_MODEL: 3}, "argos", False, empty.NO_MODEL_INSTALLED),
        (3, {NO_MODEL: 3}, "apertium", False, empty.NO_ENGINE),
        (3, {FAILED: 3}, "argos", False, empty.ALL_REFUSED),
        (3, {FAILED: 1, NO_MODEL: 2}, "apertium", False, empty.NO_ENGINE),
        (3, {DONE: 3}, "argos", False, empty.NO_ARTICLES),  # translated, but restricted
    ],
)
def test_the_reason_follows_the_state(
    articles: int, counts: dict[str, int], engine: str, source: bool, expected: str
) -> None:
    assert empty.reason(articles=articles, counts=counts, engine=engine, source=source) == expected


def test_every_catalog_says_every_reason_in_its_language() -> None:
    """The template's messages are all in every catalog, translated, not fuzzy, with the same placeholders
    (the check locales/README.md describes), and the reasons read differently from English."""
    placeholder = re.compile(r"%\((\w+)\)")
    locales = REPO / "locales"
    with (locales / "syndicator.pot").open("rb") as fh:
        template = [m.id for m in read_po(fh) if m.id]
    assert set(empty.REASONS) | {empty.EXPLAINED} <= set(template)
    for po in sorted(locales.glob("*/LC_MESSAGES/syndicator.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, abort_invalid=True)
        assert [m.id for m in catalog if m.id] == template, po
        for m in catalog:
            if m.id:
                assert m.string and not m.fuzzy, (po, m.id)
                assert sorted(placeholder.findall(str(m.id))) == sorted(placeholder.findall(str(m.string)))
        if po.parent.parent.name != "en":
            assert all(catalog[r].string != r for r in empty.REASONS), po


# -- empty languages, end to end ----------------------------------------------------------------------------


@pytest.fixture
def fresh(make_instance: Callable[..., Path]) -> Iterator[Path]:
    """A fresh instance as a new user has it: Argos without any model for fr, zh and ru; Apertium, which has no
    English→Arabic pair, for ar."""
    extra = '\n[translation.engines]\nar = "apertium"\n'
    root = make_instance(targets=("fr", "ar", "zh", "ru"), extra=extra)
    assert _run(root, "run", "--once") == 0
    yield root


def test_an_empty_language_says_why_in_its_language(fresh: Path) -> None:
    feeds, catalogs = fresh / "feeds", _catalogs(fresh)
    for lang, why in (
        ("fr", empty.NO_MODEL_INSTALLED),
        ("zh", empty.NO_MODEL_INSTALLED),
        ("ru", empty.NO_MODEL_INSTALLED),
        ("ar", empty.NO_ENGINE),
    ):
        said = catalogs.gettext(lang, why)
        assert said != why  # in the language, not in English
        rss = etree.parse(str(feeds / lang / "rss.xml"))
        assert said in rss.findtext("channel/description"), lang
        assert not rss.findall("channel/item")
        atom = etree.parse(str(feeds / lang / "atom.xml"))
        assert said in atom.findtext("{http://www.w3.org/2005/Atom}subtitle"), lang
        assert said in json.loads((feeds / lang / "feed.json").read_bytes())["description"], lang
        assert said in _styled(feeds, f"{lang}/rss.xml") and said in _styled(feeds, f"{lang}/atom.xml")
        assert said in _section((feeds / "index.html").read_bytes(), lang)
    # The source language has its articles, and no excuse.
    en = etree.parse(str(feeds / "en" / "rss.xml"))
    assert (
        en.findall("channel/item") and en.findtext("channel/description") == "News from Newsroom in English"
    )
    assert not any(
        catalogs.gettext("en", r) in _section((feeds / "index.html").read_bytes(), "en")
        for r in empty.REASONS
    )


def test_the_arabic_styled_view_is_right_to_left_and_more_than_a_title(fresh: Path) -> None:
    page = _styled(fresh / "feeds", "ar/atom.xml")
    doc = html5lib.parse(page, treebuilder="lxml").getroot()
    assert doc.get("dir") == "rtl" and doc.get("lang") == "ar"
    texts = [" ".join("".join(p.itertext()).split()) for p in doc.iter(f"{HTML}p")]
    assert len([t for t in texts if t]) >= 2  # what a feed is, and why this one is empty
    assert [a.get("href") for a in doc.iter(f"{HTML}a")] == ["../index.html"]


def test_the_reason_changes_the_feed_only_when_the_state_does(
    fresh: Path, model_files: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = fresh / "feeds"
    before = {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()}
    assert main(["--config", str(fresh / "config" / "syndicator.toml"), "run", "--once"]) == 0
    assert "0 file(s) written" in capsys.readouterr().out  # no timestamp, no count: the same bytes
    assert {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()} == before
    assert _run(fresh, "models", "install", str(model_files("en", "fr"))) == 0
    assert _run(fresh, "run", "--once") == 0
    rss = etree.parse(str(feeds / "fr" / "rss.xml"))
    assert rss.findall("channel/item")
    assert rss.findtext("channel/description") == _catalogs(fresh).gettext(
        "fr", "News from %(site)s in %(language)s", site="Salle de presse", language="français"
    )
    section = _section((feeds / "index.html").read_bytes(), "fr")
    assert not any(_catalogs(fresh).gettext("fr", r) in section for r in empty.REASONS)
    assert "[" not in section  # headlines instead


def test_every_translation_refused_says_so(make_instance: Callable[..., Path]) -> None:
    # The pseudo engine's output is a little longer than its input: a gate that wants ten times the length
    # refuses every translation.
    root = make_instance(targets=("fr",), engine="pseudo")
    config = root / "config" / "syndicator.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'packages_dir = "models"', 'packages_dir = "models"\nlength_ratio = [10.0, 20.0]'
        ),
        encoding="utf-8",
    )
    assert _run(root, "run", "--once") == 0
    said = _catalogs(root).gettext("fr", empty.ALL_REFUSED)
    assert said in etree.parse(str(root / "feeds" / "fr" / "atom.xml")).findtext(
        "{http://www.w3.org/2005/Atom}subtitle"
    )


# -- the styled view ----------------------------------------------------------------------------------------


def test_the_styled_view_shows_date_notice_summary_and_the_way_back(
    make_instance: Callable[..., Path],
) -> None:
    root = make_instance(targets=("fr", "ar"), engine="pseudo", extra="\n[publish]\nmax_entries = 2\n")
    assert _run(root, "run", "--once") == 0
    feeds, catalogs = root / "feeds", _catalogs(root)
    for relpath, way_back in (
        ("fr/rss.xml", "../index.html"),
        ("ar/archive/1/atom.xml", "../../../index.html"),
    ):
        lang = relpath.split("/", 1)[0]
        doc = html5lib.parse(_styled(feeds, relpath), treebuilder="lxml").getroot()
        assert doc.get("dir") == ("rtl" if lang == "ar" else "ltr")
        nav = doc.find(f".//{HTML}nav/{HTML}a")
        assert nav.get("href") == way_back and nav.text == catalogs.gettext(lang, "All languages")
        items = doc.findall(f".//{HTML}ol/{HTML}li")
        assert items, relpath
        notice = catalogs.gettext(lang, "This article was machine-translated from %(language)s.", language="")
        for li in items:
            texts = ["".join(p.itertext()) for p in li.iter(f"{HTML}p")]
            date_line, notice_line, summary = texts
            assert catalogs.gettext(lang, "Published %(date)s", date="").strip() in date_line
            assert re.search(r"\d", date_line)  # a date, formatted for the language
            assert notice.split()[0] in notice_line
            assert summary.strip()
            assert not li.find(f"{HTML}a").get("href").startswith("http")


SUMMARY = """Tom & Jerry's <b>"quoted"</b> &amp; 5 < 6 > 4; a lone & and &nosuch; too."""


def _summaries(page: str) -> list[str]:
    """Each entry's last paragraph (its summary) as the browser shows it: text, markup never live."""
    doc = html5lib.parse(page, treebuilder="lxml").getroot()
    assert not doc.findall(f".//{HTML}ol//{HTML}b")
    return ["".join(list(li.iter(f"{HTML}p"))[-1].itertext()) for li in doc.iter(f"{HTML}li")]


def test_the_styled_rss_view_shows_the_summary_as_written_without_disable_output_escaping(
    make_instance: Callable[..., Path],
) -> None:
    """The RSS <description> is the summary escaped once more; Firefox ignores disable-output-escaping, so
    the stylesheet decodes it itself: the RSS and Atom views show the same text in every browser."""
    root = make_instance(targets=("fr",), engine="pseudo")
    article = (DATA / "articles" / "2026-03-01-harbour-bridge.md").read_text(encoding="utf-8")
    summary_line = "summary: " + json.dumps(SUMMARY)  # YAML reads a JSON string
    edited = re.sub(r"(?m)^summary: .*$", lambda _: summary_line, article)
    (root / "articles" / "2026-03-01-harbour-bridge.md").write_text(edited, encoding="utf-8")
    assert _run(root, "run", "--once") == 0
    feeds = root / "feeds"
    for lang in ("en", "fr"):
        assert not etree.parse(str(feeds / lang / "feed.xsl")).xpath("//@disable-output-escaping")
        rss, atom = (
            _summaries(_styled(feeds, f"{lang}/rss.xml")),
            _summaries(_styled(feeds, f"{lang}/atom.xml")),
        )
        assert rss == atom and len(rss) == 3, lang
    # The text as the feed has it (markup in a summary is dropped as the article is read; the rest stays).
    atom = etree.parse(str(feeds / "en" / "atom.xml"))
    written = {e.text for e in atom.iter("{http://www.w3.org/2005/Atom}summary")}
    shown = """Tom & Jerry's "quoted" & 5 < 6 > 4; a lone & and &nosuch; too."""
    assert shown in written and shown in _summaries(_styled(feeds, "en/rss.xml"))


# -- local preview stays local ------------------------------------------------------------------------------


def _links(page: bytes) -> Iterator[tuple[str, str, str]]:
    """(element, rel, url) of every href and src of an HTML page."""
    doc = html5lib.parse(page, treebuilder="lxml").getroot()
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("href", "src"):
            if (url := el.get(attr)) is not None:
                yield el.tag.removeprefix(HTML), el.get("rel", ""), url


def test_every_link_from_a_page_to_our_site_is_relative(make_instance: Callable[..., Path]) -> None:
    """Over every HTML page of a published instance (entry pages, the landing page) and every feed's styled
    view: a link to something we serve is relative and leads to a published file; only the head's canonical
    and hreflang alternates stay absolute (search engines require it). Pages have no <a> without href and no
    <img> without alt (Nu HTML Checker)."""
    root = make_instance(targets=("fr", "ar"), engine="pseudo", extra="\n[publish]\nmax_entries = 2\n")
    # An article whose lead image we serve ourselves (shipped beside it in the drop folder, published at
    # media/<hash>.png), and one with no upstream URL (its original is ours).
    (root / "articles" / "images").mkdir()
    shutil.copy(DATA / "images" / "images" / "ferry.png", root / "articles" / "images" / "lead.png")
    (root / "articles" / "own-image.json").write_text(
        json.dumps({"title": "Our own image", "date": "2026-03-04T10:00:00Z", "body_html": "<p>Text.</p>",
                    "image": "images/lead.png"}),
        encoding="utf-8",
    )  # fmt: skip
    assert _run(root, "run", "--once") == 0
    feeds = root / "feeds"
    (image,) = [p.relative_to(feeds).as_posix() for p in (feeds / "media").iterdir()]
    assert (feeds / image).read_bytes() == (root / "articles" / "images" / "lead.png").read_bytes()
    published = {p.relative_to(feeds).as_posix() for p in feeds.rglob("*") if p.is_file()}
    documents = {rel: (feeds / rel).read_bytes() for rel in sorted(published) if rel.endswith(".html")}
    documents |= {
        f"{rel} (styled)": _styled(feeds, rel).encode()
        for rel in sorted(published)
        if rel.endswith(("rss.xml", "atom.xml"))
    }
    assert "fr/newsroom/own-image.html" in documents and "index.html" in documents
    checked = 0
    for name, page in documents.items():
        relpath = name.removesuffix(" (styled)")
        for tag, rel, url in _links(page):
            head_link = tag == "link" and rel in ("canonical", "alternate") and url.startswith(FEEDS_URL)
            if head_link:
                assert rel == "canonical" or "hreflang" in page.decode(), (name, url)
                continue
            assert not url.startswith((FEEDS_URL, "https://news.example.org/feeds", "/")), (name, tag, url)
            target, _ = urldefrag(urljoin(FEEDS_URL + relpath, url))
            if target.startswith(FEEDS_URL):
                assert target[len(FEEDS_URL) :] in published, (name, url)
                checked += 1
        doc = html5lib.parse(page, treebuilder="lxml").getroot()
        assert all(a.get("href") for a in doc.iter(f"{HTML}a")), name
        assert all(i.get("alt") is not None for i in doc.iter(f"{HTML}img")), name
    assert checked > 100
    page = documents["fr/newsroom/own-image.html"].decode()
    assert f'src="../../{image}"' in page  # the lead image we serve
    assert 'href="../../en/newsroom/own-image.html"' in page  # the original, ours too
    # Feeds keep absolute URLs: readers resolve nothing against a page.
    assert f"{FEEDS_URL}{image}" in (feeds / "fr" / "atom.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("url", "page", "expected"),
    [
        (f"{FEEDS_URL}fr/newsroom/a.html", "en/newsroom/a.html", "../../fr/newsroom/a.html"),
        (f"{FEEDS_URL}en/newsroom/a.html", "en/newsroom/b.html", "a.html"),
        (f"{FEEDS_URL}index.html", "en/newsroom/a.html", "../../index.html"),
        (f"{FEEDS_URL}en/", "index.html", "en/"),
        (f"{FEEDS_URL}", "en/newsroom/a.html", "../../"),
        ("https://elsewhere.example/a.html", "en/newsroom/a.html", "https://elsewhere.example/a.html"),
        (
            "https://news.example.org/images/a.jpg",
            "en/newsroom/a.html",
            "https://news.example.org/images/a.jpg",
        ),
        ("", "en/newsroom/a.html", ""),
    ],
)
def test_relative_url(url: str, page: str, expected: str) -> None:
    assert relative_url(url, page, FEEDS_URL) == expected


def test_the_styled_view_shows_rss_and_atom_alike(make_instance: Callable[..., Path]) -> None:
    """The RSS summary is escaped once more for readers (feeds.py), and an item without summary carries its
    content in <description>: the view shows the same plain summary as Atom, and never raw content."""
    root = make_instance(articles=[], engine="pseudo", targets=("fr",))
    for name, summary in (("signs", 'Fish & chips for < 5 dollars, "today"'), ("bare", "")):
        article = {"title": name, "date": "2026-03-01T10:00:00Z", "body_html": "<p>Body <b>text</b>.</p>"}
        if summary:
            article["summary"] = summary
        (root / "articles" / f"{name}.json").write_text(json.dumps(article), encoding="utf-8")
    assert _run(root, "run", "--once") == 0
    feeds = root / "feeds"
    for lang in ("en", "fr"):
        views = []
        for name in ("rss.xml", "atom.xml"):
            doc = html5lib.parse(_styled(feeds, f"{lang}/{name}"), treebuilder="lxml").getroot()
            views.append(
                [["".join(p.itertext()) for p in li.iter(f"{HTML}p")] for li in doc.iter(f"{HTML}li")]
            )
        assert views[0] == views[1], lang
        assert len(views[0]) == 2 and not any(
            "<" in text and "Body" in text for li in views[0] for text in li
        )
    texts = _texts(feeds, "en/rss.xml")
    assert any('Fish & chips for < 5 dollars, "today"' in text for text in texts)
    assert not any("&amp;" in text or "&lt;" in text for text in texts)


def _texts(feeds: Path, relpath: str) -> list[str]:
    doc = html5lib.parse(_styled(feeds, relpath), treebuilder="lxml").getroot()
    return ["".join(p.itertext()) for p in doc.iter(f"{HTML}p")]
