"""Files an article's body links beside it in the drop folder (`![ferry](images/ferry.png)`, `<a href>` to a
PDF): published content-addressed under media/ like the lead image, linked relatively on entry pages and
absolutely in feeds, in every language. A relative link that cannot be published is reported by the article's
file and the link as written, and taken out of the body: no published link leads nowhere, and nothing outside
the drop folder is ever read. Real pipeline runs through the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import html5lib
import lxml.html
import pytest

from syndicator.cli import main
from syndicator.config import SourceConfig
from syndicator.models import ArticleInput, Problem, Unchanged
from syndicator.sources import SourceContext, make_source
from tests.conftest import DATA

FEEDS_URL = "https://news.example.org/feeds/"
FERRY = DATA / "images" / "images" / "ferry.png"
DAWN = DATA / "images" / "images" / "ferry at dawn é.png"
PDF = b"%PDF-1.4\n% a timetable\n"
XHTML = "{http://www.w3.org/1999/xhtml}"
LANGUAGES = ("en", "fr")


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _article(root: Path, body: str, name: str = "inline-img.md") -> Path:
    path = root / "articles" / name
    path.write_text(
        f"---\ntitle: The new ferry line\ndate: 2026-03-05T07:00:00+08:00\n---\n{body}\n", encoding="utf-8"
    )
    return path


def _links(feeds: Path, page: str) -> dict[str, list[str]]:
    """The <img src> and <a href> of an entry page's article, resolved against the page, site-relative
    when they lead into the site."""
    doc = html5lib.parse((feeds / page).read_bytes(), treebuilder="lxml").getroot()
    (article,) = [el for el in doc.iter(f"{XHTML}article")] or [doc]
    out: dict[str, list[str]] = {"img": [], "a": []}
    for tag, attribute in (("img", "src"), ("a", "href")):
        for el in article.iter(f"{XHTML}{tag}"):
            target = urljoin(FEEDS_URL + page, el.get(attribute))
            out[tag].append(target.removeprefix(FEEDS_URL))
    return out


def _everything(feeds: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in feeds.rglob("*")
        if p.is_file() and p.suffix != ".gz"
    )


def test_body_images_and_files_are_published_in_every_output(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    (root / "articles" / "images").mkdir()
    shutil.copy(FERRY, root / "articles" / "images" / "ferry-line-north-island.png")
    shutil.copy(DAWN, root / "articles" / "images" / "ferry at dawn é.png")
    (root / "articles" / "timetable.pdf").write_bytes(PDF)
    _article(
        root,
        "The ferry ![The new ferry at the Old Port](images/ferry-line-north-island.png) sails at dawn "
        "![At dawn](<images/ferry at dawn é.png>). See [the timetable](timetable.pdf#page=2) and [the "
        "notes](#notes).",
    )
    assert _cli(root, "run", "--once") == 0
    feeds = root / "feeds"
    for lang in LANGUAGES:
        links = _links(feeds, f"{lang}/newsroom/inline-img.html")
        ferry, dawn = links["img"][-2:]
        assert ferry.startswith("media/") and (feeds / ferry).read_bytes() == FERRY.read_bytes()
        assert (feeds / dawn).read_bytes() == DAWN.read_bytes()
        timetable = next(a for a in links["a"] if ".pdf" in a)
        assert timetable.endswith(".pdf#page=2")
        assert (feeds / timetable.split("#")[0]).read_bytes() == PDF
        assert f"{lang}/newsroom/inline-img.html#notes" in links["a"]  # a fragment stays the page's own
        # Feeds link them absolutely (readers resolve nothing against a page), in all three formats.
        for name in ("atom.xml", "rss.xml", "feed.json"):
            text = (feeds / lang / name).read_text(encoding="utf-8")
            if name == "feed.json":
                text = json.loads(text)["items"][0]["content_html"]
            for target in (ferry, dawn, timetable):
                assert f"{FEEDS_URL}{target}" in text, (name, target)
    assert "images/" not in _everything(feeds)
    assert _cli(root, "verify") == 0
    capsys.readouterr()
    assert _cli(root, "status", "--json") == 0
    assert "inline-img" not in json.loads(capsys.readouterr().out).get("problems", "")

    # A lost media file comes back from the store with --repair.
    (feeds / ferry).unlink()
    assert _cli(root, "verify") == 1
    assert _cli(root, "verify", "--repair") == 0
    assert (feeds / ferry).read_bytes() == FERRY.read_bytes()


def test_a_body_image_arriving_after_its_article_is_picked_up(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    _article(root, "The ferry ![The new ferry](images/ferry-line-north-island.png) sails.")
    assert _cli(root, "run", "--once") == 0
    feeds = root / "feeds"
    for lang in LANGUAGES:  # published without the image, never with a link that leads nowhere
        page = (feeds / lang / "newsroom" / "inline-img.html").read_text(encoding="utf-8")
        assert "<img" not in page and "images/" not in page
    assert _cli(root, "verify") == 0
    capsys.readouterr()
    assert _cli(root, "status", "--json") == 0
    status = capsys.readouterr().out
    assert "body image 'images/ferry-line-north-island.png' does not exist" in status
    assert "inline-img.md" in status

    (root / "articles" / "images").mkdir()
    shutil.copy(FERRY, root / "articles" / "images" / "ferry-line-north-island.png")
    assert _cli(root, "run", "--once") == 0  # the article file is unchanged: its problem has it read again
    for lang in LANGUAGES:
        (image,) = _links(feeds, f"{lang}/newsroom/inline-img.html")["img"]
        assert (feeds / image).read_bytes() == FERRY.read_bytes()

    # Replaced: the unchanged article is read again (its version tag holds the file's signature).
    shutil.copy(DAWN, root / "articles" / "images" / "ferry-line-north-island.png")
    assert _cli(root, "run", "--once") == 0
    (image,) = _links(feeds, "fr/newsroom/inline-img.html")["img"]
    assert (feeds / image).read_bytes() == DAWN.read_bytes()


def _poll(folder: Path) -> list[ArticleInput | Problem | Unchanged]:
    cfg = SourceConfig(
        name="drop", kind="folder", every=timedelta(minutes=5), language="en", options={"path": folder}
    )
    return list(make_source(cfg, SourceContext(timezone=ZoneInfo("UTC"))).poll())


HOSTILE = [
    ("![x](../../etc/passwd)", "lies outside the folder"),
    ("![x](/etc/passwd)", "is an absolute path"),
    ("![x](%2e%2e/%2e%2e/etc/passwd)", "lies outside the folder"),
    ("![x](images/%2e%2e/%2e%2e/secret.png)", "lies outside the folder"),
    ("![x](up/secret.png)", "outside the folder"),  # a link leading out
    ("[x](../secret.png)", "lies outside the folder"),
    ("![x](article.md)", "is not a JPEG, PNG, GIF or WebP image"),  # not an image for an <img>
    ("[x](images/notes.html)", "is not a JPEG, PNG, GIF or WebP image or a PDF"),  # would run as our page
    ("![x](images)", "a directory"),
    ("![x](nope.png)", "does not exist"),
    ('<img src="../secret.png" onerror="alert(1)">', "lies outside the folder"),
    ('<a href="..%2fsecret.png">x</a>', "lies outside the folder"),
]


@pytest.mark.parametrize(("body", "message"), HOSTILE, ids=[b for b, _ in HOSTILE])
def test_hostile_relative_links_are_reported_and_left_out(tmp_path: Path, body: str, message: str) -> None:
    folder = tmp_path / "drop"
    (folder / "images").mkdir(parents=True)
    (tmp_path / "secret.png").write_bytes(FERRY.read_bytes())
    os.symlink(tmp_path, folder / "up")
    (folder / "images" / "notes.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    (folder / "article.md").write_text(
        f'---\ntitle: T\ndate: 2026-03-03\n---\nBefore {body} after <a href="file:///etc/passwd">f</a> '
        '<a href="javascript:alert(1)">js</a>\n',
        encoding="utf-8",
    )
    items = _poll(folder)
    (article,) = [i for i in items if isinstance(i, ArticleInput)]
    problems = [i for i in items if isinstance(i, Problem)]
    (problem,) = problems
    assert problem.origin == str(folder / "article.md")
    assert message in problem.message and "left out of the published article" in problem.message
    assert article.body_files == ()
    tree = lxml.html.fragment_fromstring(article.body_html, create_parent="div")
    values = " ".join(v for el in tree.iter() for v in el.attrib.values())
    for hostile in (
        "etc/passwd",
        "secret",
        "..",
        "article.md",
        "notes.html",
        "file:",
        "javascript:",
        "alert",
    ):
        assert hostile not in values, hostile
    assert "onerror" not in article.body_html
    assert "Before" in article.body_html and "after" in article.body_html  # the article itself stands


def test_a_stored_body_with_a_relative_link_is_never_published_with_it(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A body stored before body links were published (or edited in the store) still says images/…: the
    publisher takes the link out rather than publish it dead, so verify --repair fixes the dead links."""
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    (root / "articles" / "images").mkdir()
    shutil.copy(FERRY, root / "articles" / "images" / "ferry.png")
    _article(root, "The ferry ![The new ferry](images/ferry.png) sails.")
    assert _cli(root, "run", "--once") == 0
    feeds = root / "feeds"
    with sqlite3.connect(root / "data" / "syndicator.db") as db:
        for table in ("articles", "translations"):
            db.execute(
                f"UPDATE {table} SET body_html = "
                '\'<p>The ferry <img src="images/ferry.png" alt="The new ferry"> sails.</p>\''
            )
    for lang in LANGUAGES:  # the published pages of an earlier version, with the dead link
        page = feeds / lang / "newsroom" / "inline-img.html"
        text = page.read_text(encoding="utf-8")
        (image,) = _links(feeds, f"{lang}/newsroom/inline-img.html")["img"]
        page.write_text(
            text.replace(os.path.relpath(image, f"{lang}/newsroom"), "images/ferry.png"), encoding="utf-8"
        )
    capsys.readouterr()
    assert _cli(root, "verify") == 1
    said = capsys.readouterr()
    assert "links to files that do not exist: images/ferry.png" in said.out
    assert "verify --repair` republishes" in said.err  # and it does:
    assert _cli(root, "verify", "--repair") == 0
    for lang in LANGUAGES:
        text = (feeds / lang / "newsroom" / "inline-img.html").read_text(encoding="utf-8")
        assert "images/ferry.png" not in text and "The ferry" in text


def test_verify_names_a_fix_that_works_when_repair_cannot(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A media file lost from both the tree and the store: --repair cannot bring it back, so neither verify
    nor verify --repair recommends it; what they recommend works."""
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    (root / "articles" / "images").mkdir()
    shutil.copy(FERRY, root / "articles" / "images" / "ferry.png")
    article = _article(root, "The ferry ![The new ferry](images/ferry.png) sails.")
    assert _cli(root, "run", "--once") == 0
    feeds = root / "feeds"
    (image,) = _links(feeds, "en/newsroom/inline-img.html")["img"]
    (feeds / image).unlink()
    with sqlite3.connect(root / "data" / "syndicator.db") as db:
        db.execute("DELETE FROM media")
    capsys.readouterr()
    for args in (("verify",), ("verify", "--repair")):
        assert _cli(root, *args) == 1
        out = capsys.readouterr()
        said = out.out + out.err
        assert f"the store does not hold {image} either" in said, said
        assert "verify --repair` republishes" not in said
    # What it says to do works: the file beside the article, the article touched, a run, then --repair.
    os.utime(article)
    assert _cli(root, "run", "--once") == 0
    assert _cli(root, "verify", "--repair") == 0
    assert (feeds / image).read_bytes() == FERRY.read_bytes()


def test_hostile_links_through_the_whole_pipeline(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Every hostile link of HOSTILE in one article, run through the CLI: the article is published in every
    language, no published file holds a byte of a file outside the folder or a hostile URL, each link is
    reported by the article's file and the link as written."""
    root = make_instance(articles=(), targets=("fr",), engine="pseudo")
    folder = root / "articles"
    (folder / "images").mkdir()
    secret = b"\x89PNG\r\n\x1a\nTOP-SECRET-BYTES"
    (root / "secret.png").write_bytes(secret)
    os.symlink(root, folder / "up")
    (folder / "images" / "notes.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    bodies = " ".join(body for body, _ in HOSTILE).replace("article.md", "inline-img.md")
    _article(root, f"Before {bodies} after.")
    assert _cli(root, "run", "--once") == 0
    feeds = root / "feeds"
    published = _everything(feeds)
    for lang in LANGUAGES:
        assert (feeds / lang / "newsroom" / "inline-img.html").exists()
    assert "TOP-SECRET" not in published
    assert not (feeds / "media").exists() or not any((feeds / "media").iterdir())
    for hostile in ("etc/passwd", "secret.png", "notes.html", "onerror", "alert(1)", "file:", "..%2f"):
        assert hostile not in published, hostile
    capsys.readouterr()
    assert _cli(root, "status", "--json") == 0
    status = capsys.readouterr().out
    for written in (
        "../../etc/passwd",
        "/etc/passwd",
        "%2e%2e/%2e%2e/etc/passwd",
        "up/secret.png",
        "nope.png",
    ):
        assert f"'{written}'" in status, written
    assert _cli(root, "verify") == 0
