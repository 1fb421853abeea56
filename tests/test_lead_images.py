"""Lead images shipped in the drop folder: each fixture article in tests/data/images/ names an image file
beside it; its .expected file holds what the one problem about it says (empty: the image is published).

Whatever is wrong with the image, the article is stored without it and the problem names the article's file
and the image as written. Images are typed by their bytes, read with the folder's file rules (no FIFO, no
link out of the folder, bounded by the source's max_image_bytes) and never decoded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import html5lib
import pytest

from syndicator.cli import main
from syndicator.config import SourceConfig
from syndicator.models import ArticleInput, Problem
from syndicator.publish.media import MEDIA_CACHE_CONTROL
from syndicator.sources import SourceContext, make_source
from syndicator.sources.images import BadImage, image_type, is_file_reference
from tests.conftest import DATA
from tests.support.s3 import S3Bucket

IMAGES = DATA / "images"
CASES = sorted(p for p in IMAGES.iterdir() if p.suffix in (".md", ".json"))


def _poll(folder: Path, **options: object) -> list[ArticleInput | Problem]:
    cfg = SourceConfig(
        name="drop",
        kind="folder",
        every=timedelta(minutes=5),
        language="en",
        options={"path": folder, "max_image_bytes": 1024, **options},
    )
    return list(make_source(cfg, SourceContext(timezone=ZoneInfo("Asia/Shanghai"))).poll())


def _drop(tmp_path: Path, article: Path) -> Path:
    """A drop folder holding one fixture article and every fixture image, plus what git cannot hold: a link
    to a file outside the folder and a FIFO."""
    folder = tmp_path / "drop"
    shutil.copytree(IMAGES / "images", folder / "images")
    shutil.copy(article, folder / article.name)
    (tmp_path / "secret.png").write_bytes((IMAGES / "images" / "ferry.png").read_bytes())
    os.symlink(tmp_path / "secret.png", folder / "images" / "outside.png")
    os.mkfifo(folder / "images" / "pipe.png")
    return folder


@pytest.mark.parametrize("article", CASES, ids=[p.stem for p in CASES])
def test_each_image_case_says_what_it_should(tmp_path: Path, article: Path) -> None:
    folder = _drop(tmp_path, article)
    items = _poll(folder)
    (stored,) = [i for i in items if isinstance(i, ArticleInput)]
    problems = [i for i in items if isinstance(i, Problem)]
    expected = article.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    if not expected:
        assert problems == []
        assert stored.image_file is not None
        assert stored.image == stored.image_file.path
        assert stored.image.startswith("media/") and stored.image.endswith(".png")
        return
    assert stored.image == "" and stored.image_file is None  # stored, without the image
    (problem,) = problems
    assert problem.origin == str(folder / article.name)
    assert "stored without it" in problem.message
    for line in expected:
        assert line in problem.message


def test_the_published_bytes_are_the_files_bytes(tmp_path: Path) -> None:
    folder = _drop(tmp_path, IMAGES / "unicode-name.md")
    (stored,) = _poll(folder)
    assert isinstance(stored, ArticleInput) and stored.image_file is not None
    assert stored.image_file.data == (folder / "images" / "ferry at dawn é.png").read_bytes()


def test_the_same_image_gets_the_same_name(tmp_path: Path) -> None:
    folder = _drop(tmp_path, IMAGES / "good-image.md")
    shutil.copy(IMAGES / "dot-dot-inside.md", folder)
    shutil.copy(folder / "images" / "ferry.png", folder / "images" / "copy.png")
    (folder / "copy.md").write_text(
        "---\ntitle: Copy\ndate: 2026-03-03\nimage: images/copy.png\n---\nx\n", encoding="utf-8"
    )
    names = {i.image for i in _poll(folder) if isinstance(i, ArticleInput)}
    assert len(names) == 1


def test_links_inside_the_folder_follow_the_source_policy(tmp_path: Path) -> None:
    folder = _drop(tmp_path, IMAGES / "good-image.md")
    os.symlink(folder / "images", folder / "pictures")  # a linked folder that stays inside
    (folder / "good-image.md").write_text(
        "---\ntitle: Linked\ndate: 2026-03-03\nimage: pictures/ferry.png\n---\nx\n", encoding="utf-8"
    )
    (inside,) = _poll(folder)
    assert isinstance(inside, ArticleInput) and inside.image_file is not None
    never = [i for i in _poll(folder, symlinks="never") if isinstance(i, Problem)]
    assert len(never) == 1 and "symbolic link" in never[0].message
    os.symlink(tmp_path, folder / "up")  # a linked folder leading out
    (folder / "good-image.md").write_text(
        "---\ntitle: Out\ndate: 2026-03-03\nimage: up/secret.png\n---\nx\n", encoding="utf-8"
    )
    out = [i for i in _poll(folder) if isinstance(i, Problem)]
    assert len(out) == 1 and "outside the folder" in out[0].message
    anywhere = _poll(folder, symlinks="anywhere")
    assert [type(i) for i in anywhere] == [ArticleInput]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("images/\n.png", "does not exist"),
        ("images/x.png\x00", "is not a file name"),
        ("images/a|b.png", "does not exist"),
        ("images/" + "a" * 500 + ".png", "does not exist"),  # longer than a file name may be
        ("~/x.png", "does not exist"),  # no home directories: a folder called "~"
        ("%2e%2e/x.png", "does not exist"),  # a file name as written, not URL-decoded
        (".", "lies outside the folder"),
        ("images/../../x.png", "lies outside the folder"),
    ],
)
def test_odd_image_names_are_problems_not_crashes(tmp_path: Path, written: str, message: str) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "a.json").write_text(
        json.dumps({"title": "T", "date": "2026-03-03", "image": written, "body": "x"}), encoding="utf-8"
    )
    problem, stored = _poll(tmp_path)
    assert isinstance(stored, ArticleInput) and stored.image == ""
    assert isinstance(problem, Problem) and message in problem.message
    assert "\n" not in problem.message  # a name cannot forge a log line


def test_absolute_image_urls_keep_working(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\ntitle: A\ndate: 2026-03-03\nimage: https://cdn.example.org/a.jpg\n---\nx\n", encoding="utf-8"
    )
    (stored,) = _poll(tmp_path)
    assert isinstance(stored, ArticleInput)
    assert stored.image == "https://cdn.example.org/a.jpg" and stored.image_file is None


@pytest.mark.parametrize(
    ("value", "is_file"),
    [
        ("images/ferry.jpg", True),
        ("ferry.jpg", True),
        ("../x.png", True),  # a file reference, refused when it is read
        ("/etc/passwd", True),
        ("images/ferry%20at%20dawn.jpg", True),  # a file name as written, not decoded
        ("https://cdn.example.org/a.jpg", False),
        ("http://cdn.example.org/a.jpg", False),
        ("//cdn.example.org/a.jpg", False),
        ("javascript:alert(1)", False),  # dropped by validation as a URL that is not http(s)
        ("data:image/png;base64,AAAA", False),
        ("", False),
    ],
)
def test_what_names_a_file(value: str, is_file: bool) -> None:
    assert is_file_reference(value) is is_file


@pytest.mark.parametrize(
    ("data", "extension"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif", "jpg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"GIF87a\x01\x00\x01\x00", "gif"),
        (b"GIF89a\x01\x00\x01\x00", "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
    ],
)
def test_image_types_by_their_bytes(data: bytes, extension: str) -> None:
    assert image_type(data) == extension


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbf  <?xml version='1.0'?><svg onload='x()'/>", "SVG"),
        (b"<SVG xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"<!DOCTYPE html><html><script>x()</script>", "not a JPEG, PNG, GIF or WebP"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not a JPEG, PNG, GIF or WebP"),
        (b"\x89PNG", "not a JPEG, PNG, GIF or WebP"),  # a truncated signature
        (b"", "is empty"),
    ],
)
def test_what_is_not_an_image(data: bytes, message: str) -> None:
    with pytest.raises(BadImage, match=message):
        image_type(data)


# -- end to end: drop folder → store → published file ------------------------------------------------------------

FEEDS_URL = "https://news.example.org/feeds/"
FERRY = IMAGES / "images" / "ferry.png"
DAWN = IMAGES / "images" / "ferry at dawn é.png"


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _ship(root: Path, image: Path | None, written: str = "images/lead photo.png") -> None:
    """Drop an article naming `written`, with `image` copied there (None: the image is not there yet)."""
    (root / "articles" / "images").mkdir(exist_ok=True)
    if image is not None:
        shutil.copy(image, root / "articles" / written)
    (root / "articles" / "lead.md").write_text(
        f'---\ntitle: A ferry at dawn\ndate: 2026-03-05T07:00:00+08:00\nimage: "{written}"\n---\nText.\n',
        encoding="utf-8",
    )


def _img(feeds: Path, page: str) -> str:
    """The site-relative path the lead <img> of an entry page points at (resolved against the page)."""
    doc = html5lib.parse((feeds / page).read_bytes(), treebuilder="lxml").getroot()
    (src,) = [el.get("src") for el in doc.iter("{http://www.w3.org/1999/xhtml}img")]
    target = urljoin(FEEDS_URL + page, src)
    assert not src.startswith(("http", "/")) and target.startswith(FEEDS_URL), src
    return target[len(FEEDS_URL) :]


def _tree(feeds: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(feeds).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino) for p in feeds.rglob("*")
    }


def test_a_shipped_image_is_published_and_linked(make_instance: Callable[..., Path]) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    _ship(root, FERRY)
    assert _cli(root, "run", "--once") == 0
    feeds = root / "feeds"
    for lang in ("en", "fr"):
        image = _img(feeds, f"{lang}/newsroom/lead.html")
        assert image.startswith("media/") and image.endswith(".png")
        assert (feeds / image).read_bytes() == FERRY.read_bytes()
        # Feeds link it absolutely: readers resolve nothing against a page.
        assert f'rel="enclosure" type="image/png" href="{FEEDS_URL}{image}"' in (
            feeds / lang / "atom.xml"
        ).read_text(encoding="utf-8")
    assert not list((feeds / "media").glob("*.gz"))  # images are compressed already
    assert _cli(root, "verify") == 0  # media files are neither strays nor dead links

    # Nothing changed: nothing is written.
    before = _tree(feeds)
    assert _cli(root, "run", "--once") == 0
    assert _tree(feeds) == before

    # The image is replaced, the article file is not: the article is read again and shows the new image;
    # the old file stays (archived entries and caches may still ask for it).
    old = image
    (root / "articles" / "images" / "lead photo.png").write_bytes(DAWN.read_bytes())
    assert _cli(root, "run", "--once") == 0
    new = _img(feeds, "fr/newsroom/lead.html")
    assert new != old and (feeds / new).read_bytes() == DAWN.read_bytes()
    assert (feeds / old).exists()

    # A lost image file is republished by verify --repair, from the store.
    (feeds / new).unlink()
    assert _cli(root, "verify") == 1
    assert _cli(root, "verify", "--repair") == 0
    assert (feeds / new).read_bytes() == DAWN.read_bytes()


def test_an_image_added_after_its_article_is_picked_up(make_instance: Callable[..., Path]) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    _ship(root, None)
    assert _cli(root, "run", "--once") == 0  # stored without the image; the problem is logged
    page = (root / "feeds" / "en" / "newsroom" / "lead.html").read_bytes()
    assert b"<img" not in page
    shutil.copy(FERRY, root / "articles" / "images" / "lead photo.png")
    assert _cli(root, "run", "--once") == 0
    image = _img(root / "feeds", "en/newsroom/lead.html")
    assert (root / "feeds" / image).read_bytes() == FERRY.read_bytes()


def test_the_bucket_gets_the_image_with_its_headers(s3: S3Bucket, make_instance: Callable[..., Path]) -> None:
    root = make_instance(targets=("fr",), engine="pseudo", extra=s3.publish_toml())
    _ship(root, FERRY)
    assert _cli(root, "run", "--once") == 0
    page = s3.get("fr/newsroom/lead.html")["data"].decode()
    (src,) = re.findall(r'<img src="([^"]+)"', page)
    image = urljoin(FEEDS_URL + "fr/newsroom/lead.html", src)[len(FEEDS_URL) :]
    got = s3.get(image)
    assert got["data"] == FERRY.read_bytes()
    assert (got["ContentType"], got["CacheControl"]) == ("image/png", MEDIA_CACHE_CONTROL)
    puts = s3.count("PUT")
    assert _cli(root, "run", "--once") == 0
    assert s3.count("PUT") == puts


def test_a_bad_image_stays_reported_until_fixed(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    _ship(root, IMAGES / "images" / "logo.svg", "images/logo.svg")
    assert _cli(root, "run", "--once") == 0
    assert _cli(root, "run", "--once") == 0  # the article file did not change: it is read again all the same
    capsys.readouterr()
    assert _cli(root, "status", "--json") == 0
    assert "image 'images/logo.svg' is an SVG image" in capsys.readouterr().out
    assert b"<img" not in (root / "feeds" / "en" / "newsroom" / "lead.html").read_bytes()
