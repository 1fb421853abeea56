"""Drop-folder source: each broken fixture file has its expected message beside it."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicator.config import SourceConfig
from syndicator.models import ArticleInput, Problem
from syndicator.sources import SourceContext, make_source

FOLDER = Path(__file__).parent / "data" / "folder"
BROKEN = sorted(
    p
    for p in FOLDER.iterdir()
    if p.suffix in (".md", ".html", ".json") and p.with_suffix(".expected").exists()
)


def _poll(path: Path) -> list[ArticleInput | Problem]:
    cfg = SourceConfig(
        name="drop", kind="folder", every=timedelta(minutes=5), language="en", options={"path": path}
    )
    return list(make_source(cfg, SourceContext(timezone=ZoneInfo("Asia/Shanghai"))).poll())


@pytest.mark.parametrize("fixture", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_is_reported_and_the_rest_go_on(tmp_path: Path, fixture: Path) -> None:
    shutil.copy(FOLDER / "good.md", tmp_path / "good.md")
    shutil.copy(fixture, tmp_path / fixture.name)
    items = _poll(tmp_path)
    problems = [i for i in items if isinstance(i, Problem)]
    articles = [i for i in items if isinstance(i, ArticleInput)]
    assert [a.title for a in articles] == ["A good article"]
    assert len(problems) == 1
    assert problems[0].origin.endswith(fixture.name)
    for expected in fixture.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        assert expected in problems[0].message


def test_good_file_fields(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).parent / "data" / "articles" / "2026-03-01-harbour-bridge.md", tmp_path)
    (article,) = _poll(tmp_path)
    assert isinstance(article, ArticleInput)
    assert article.key == "harbour-bridge"
    assert article.title == "Harbour Bridge Reopens After Repairs"
    assert article.published.utcoffset() == timedelta(hours=8)
    assert article.tags == ("transport", "bridge")
    assert article.image == "https://news.example.org/img/bridge.jpg"
    assert article.body_html.count("<p>") == 2
    assert '<a href="https://news.example.org/transport"' in article.body_html


def test_date_without_offset_is_site_time(tmp_path: Path) -> None:
    shutil.copy(FOLDER / "good.md", tmp_path / "good.md")
    (article,) = _poll(tmp_path)
    assert isinstance(article, ArticleInput)
    assert article.published.tzinfo == ZoneInfo("Asia/Shanghai")
    assert article.key == "good"  # no id: the file name is the stable id


def test_script_in_body_is_removed(tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text(
        '---\ntitle: X\ndate: 2026-03-01\n---\nHi <script>alert(1)</script><a href="javascript:x()" onclick="y()">z</a>\n',
        encoding="utf-8",
    )
    (article,) = _poll(tmp_path)
    assert isinstance(article, ArticleInput)
    assert "script" not in article.body_html and "javascript:" not in article.body_html
    assert "onclick" not in article.body_html


def test_missing_folder_is_a_problem(tmp_path: Path) -> None:
    (problem,) = _poll(tmp_path / "nope")
    assert isinstance(problem, Problem)
    assert "does not exist" in problem.message


def test_saved_html_page_is_extracted_like_a_web_page(tmp_path: Path) -> None:
    shutil.copy(FOLDER / "saved-page.html", tmp_path)
    (article,) = _poll(tmp_path)
    assert isinstance(article, ArticleInput), article
    assert (article.key, article.title, article.author) == (
        "saved-page",
        "Harbour bridge reopens",
        "Ana Lima",
    )
    assert article.published.isoformat() == "2026-03-01T09:30:00+08:00"
    assert "<script" not in article.body_html and "injected text" not in article.body_html
    assert "cyclists used the new lane" in article.body_html


def test_json_article_fields(tmp_path: Path) -> None:
    shutil.copy(FOLDER / "wire-story.json", tmp_path)
    (article,) = _poll(tmp_path)
    assert isinstance(article, ArticleInput), article
    assert (article.key, article.title, article.author, article.tags) == (
        "wire-2026-0307", "Tram line opens", "Wire desk", ("transport",)
    )  # fmt: skip
    assert "<strong>new tram line</strong>" in article.body_html and "script" not in article.body_html


FRONT_MATTER = Path(__file__).parent / "data" / "drop-fields"
FRONT_MATTER_EXPECTED = json.loads((FRONT_MATTER / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", [n for n in FRONT_MATTER_EXPECTED if not n.startswith("_")])
def test_front_matter_keys_are_read_or_reported(tmp_path: Path, name: str) -> None:
    """tests/data/drop-fields: static-site generators' tag keys (`categories`, `category`, `tag`,
    `keywords`) are tags, so a restricted category given under them is matched; any other unknown key is
    one note naming the file and the key, with a hint, and the article is still stored. Dates with an offset
    beyond ±14:00 or out of range are problems quoting them as written, in every kind of file."""
    expected = FRONT_MATTER_EXPECTED[name]
    shutil.copy(FRONT_MATTER / name, tmp_path / name)
    items = _poll(tmp_path)
    problems = [i for i in items if isinstance(i, Problem)]
    assert all(p.origin == str(tmp_path / name) for p in problems), problems
    if "rejected" in expected:
        assert not [i for i in items if isinstance(i, ArticleInput)]
        assert len(problems) == 1 and expected["rejected"] in problems[0].message, problems
        return
    (article,) = [i for i in items if isinstance(i, ArticleInput)]
    for field, value in expected["fields"].items():
        got = getattr(article, field)
        got = list(got) if isinstance(got, tuple) else got.isoformat() if isinstance(got, datetime) else got
        assert got == value, field
    assert len(problems) == len(expected["notes"]), problems
    for problem, words in zip(problems, expected["notes"], strict=True):
        assert words in problem.message
