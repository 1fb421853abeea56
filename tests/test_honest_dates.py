"""Dates as every reader in the test suite shows them (feedcheck-style date agreement).

The articles of tests/data/dates/articles go through real `run --once` cycles: first with French translated and
Chinese waiting for a model, then with Chinese arriving, then with one article edited. After each stage every
reader — feedparser (Atom and RSS), the JSON Feed fields, newsboat and rsstail, over HTTP on 127.0.0.1 — must
show each article's own dates (tests/data/dates/expected.toml), never the day it was stored or translated; and
a feed's own date must move exactly when an entry in it changed.
"""

from __future__ import annotations

import email.utils
import json
import shutil
import sqlite3
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicator.cli import main
from syndicator.models import ArticleInput
from syndicator.store.articles import modified
from tests.conftest import DATA, build_instance, write_config
from tests.support.feedserver import rsstail, serve_folder

EXPECTED = tomllib.loads((DATA / "dates" / "expected.toml").read_text(encoding="utf-8"))
TITLES = {
    key: next(
        line.split(":", 1)[1].strip()
        for line in (DATA / "dates" / "articles" / f"{key}.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("title:")
    )
    for key in EXPECTED
}
LANGUAGES = ("en", "fr", "zh")
WAITING = '\n[translation.engines]\nzh = "argos"\n'  # and no Argos model installed: zh waits for one


@dataclass
class Stage:
    """The published feeds after one cycle, and the wall-clock window the cycle ran in."""

    feeds: Path
    began: datetime
    ended: datetime


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stage]:
    """waiting: zh has no model; again: the same cycle once more; arrived: zh translated; edited: one article's
    text changed (no front matter date)."""
    base = tmp_path_factory.mktemp("dates")
    settings: dict[str, Any] = {"targets": ("fr", "zh"), "engine": "pseudo"}
    root = build_instance(base / "instance", folders=("dates/articles",), extra=WAITING, **settings)
    config = root / "config" / "syndicator.toml"
    out: dict[str, Stage] = {}

    def cycle(name: str) -> None:
        began = datetime.now(UTC).replace(microsecond=0)
        assert main(["-q", "--config", str(config), "run", "--once"]) == 0
        ended = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        out[name] = Stage(shutil.copytree(root / "feeds", base / name), began, ended)

    cycle("waiting")
    cycle("again")
    write_config(root, **settings)  # zh translated from now on
    cycle("arrived")
    for key in (k for k, v in EXPECTED.items() if v.get("edited")):
        path = root / "articles" / f"{key}.md"
        path.write_text(path.read_text(encoding="utf-8") + "\nA paragraph added later.\n", encoding="utf-8")
    cycle("edited")
    return out


# -- readers: what each shows per entry, by the article's title --------------------------------------------------

Shown = dict[str, dict[str, datetime]]  # title -> {"published" | "updated": the date the reader shows}


def _struct(value: Any) -> datetime:
    return datetime(*tuple(value)[:6]).replace(tzinfo=UTC)


def feedparser_atom(stage: Stage, lang: str) -> Shown:
    parsed = feedparser.parse((stage.feeds / lang / "atom.xml").read_bytes())
    return {e.title: {"published": _struct(e.published_parsed), "updated": _struct(e.updated_parsed)}
            for e in parsed.entries}  # fmt: skip


def feedparser_rss(stage: Stage, lang: str) -> Shown:
    parsed = feedparser.parse((stage.feeds / lang / "rss.xml").read_bytes())
    return {e.title: {"published": _struct(e.published_parsed)} for e in parsed.entries}


def json_feed(stage: Stage, lang: str) -> Shown:
    feed = json.loads((stage.feeds / lang / "feed.json").read_text(encoding="utf-8"))
    return {item["title"]: {"published": datetime.fromisoformat(item["date_published"]),
                            "updated": datetime.fromisoformat(item["date_modified"])}
            for item in feed["items"]}  # fmt: skip


def _newsboat(stage: Stage, lang: str, name: str, home: Path) -> Shown:
    """newsboat's cached items after a reload: the date it lists (Atom: `published`; RSS: pubDate)."""
    home.mkdir(parents=True, exist_ok=True)
    with serve_folder(stage.feeds) as base:
        (home / "urls").write_text(f"{base}{lang}/{name}\n", encoding="utf-8")
        (home / "config").write_text("auto-reload no\n", encoding="utf-8")
        result = subprocess.run(
            ["newsboat", "-u", str(home / "urls"), "-c", str(home / "cache.db"), "-C", str(home / "config"),
             "-x", "reload"],
            env={"HOME": str(home), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(home / "cache.db") as conn:
        rows = list(conn.execute("SELECT title, pubDate FROM rss_item"))
    return {title: {"published": datetime.fromtimestamp(stamp, UTC)} for title, stamp in rows}


def _rsstail(stage: Stage, lang: str, name: str, field: str) -> Shown:
    """rsstail's one-shot listing with dates (-p): for Atom it shows `updated`, for RSS pubDate."""
    output = rsstail(stage.feeds, f"{lang}/{name}", "-p")
    shown: Shown = {}
    title = ""
    for line in (line.strip() for line in output.splitlines()):
        try:  # rsstail writes a wrong weekday for Atom dates, which parsing ignores
            date = email.utils.parsedate_to_datetime(line)
        except (TypeError, ValueError):
            title = line or title  # a title (rsstail prints one, then its date)
            continue
        shown[title] = {field: date}
    return shown


@dataclass(frozen=True)
class Reader:
    name: str
    read: Callable[[Stage, str, Path], Shown]
    tool: str = ""  # the program it needs


READERS = (
    Reader("feedparser atom", lambda s, lang, _: feedparser_atom(s, lang)),
    Reader("feedparser rss", lambda s, lang, _: feedparser_rss(s, lang)),
    Reader("json feed", lambda s, lang, _: json_feed(s, lang)),
    Reader("newsboat atom", lambda s, lang, home: _newsboat(s, lang, "atom.xml", home), "newsboat"),
    Reader("newsboat rss", lambda s, lang, home: _newsboat(s, lang, "rss.xml", home), "newsboat"),
    Reader("rsstail atom", lambda s, lang, _: _rsstail(s, lang, "atom.xml", "updated"), "rsstail"),
    Reader("rsstail rss", lambda s, lang, _: _rsstail(s, lang, "rss.xml", "published"), "rsstail"),
)


def _expected(
    key: str, field: str, stage: str, stages: dict[str, Stage]
) -> datetime | tuple[datetime, datetime]:
    """The date due for an article's field at a stage: its own, or the edit's time window once edited."""
    if field == "updated" and stage == "edited" and EXPECTED[key].get("edited"):
        return stages["edited"].began, stages["edited"].ended
    value = EXPECTED[key][field]
    assert isinstance(value, datetime)
    return value


@pytest.mark.parametrize("stage", ["waiting", "arrived", "edited"])
@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_every_reader_shows_each_article_its_own_dates(
    stages: dict[str, Stage], reader: Reader, stage: str, tmp_path: Path
) -> None:
    if reader.tool and shutil.which(reader.tool) is None:
        pytest.skip(f"{reader.tool} is not installed (Debian package {reader.tool})")
    for lang in LANGUAGES:
        shown = reader.read(stages[stage], lang, tmp_path / lang)
        if lang == "zh" and stage == "waiting":
            assert shown == {}, "zh has no model yet"
            continue
        assert len(shown) == len(EXPECTED), (lang, sorted(shown))
        for key, title in TITLES.items():
            dates = next(d for t, d in shown.items() if t.endswith(title))
            for field, value in dates.items():
                due = _expected(key, field, stage, stages)
                if isinstance(due, tuple):
                    assert due[0] <= value <= due[1], (reader.name, lang, key, field, value, due)
                else:
                    assert value == due, (reader.name, lang, key, field, value, due)


# -- the feeds' own dates -------------------------------------------------------------------------------------------


def _feed_dates(feeds: Path, lang: str) -> tuple[datetime | None, datetime | None]:
    """(Atom feed `updated`, RSS `lastBuildDate`) as feedparser reads them (None when absent)."""
    atom = feedparser.parse((feeds / lang / "atom.xml").read_bytes()).feed
    rss = feedparser.parse((feeds / lang / "rss.xml").read_bytes()).feed
    return (
        _struct(atom.updated_parsed) if atom.get("updated_parsed") else None,
        _struct(rss.updated_parsed) if rss.get("updated_parsed") else None,
    )


def _files(feeds: Path) -> dict[str, bytes]:
    return {p.relative_to(feeds).as_posix(): p.read_bytes() for p in sorted(feeds.rglob("*")) if p.is_file()}


def test_nothing_changed_nothing_moves(stages: dict[str, Stage]) -> None:
    """A cycle with nothing new leaves every file byte-identical: no date in them is "now"."""
    assert _files(stages["again"].feeds) == _files(stages["waiting"].feeds)


def test_an_empty_feed_says_a_stable_date_and_no_build_date(stages: dict[str, Stage]) -> None:
    atom, rss = _feed_dates(stages["waiting"].feeds, "zh")
    assert rss is None  # lastBuildDate is optional: an empty feed was never built from entries
    assert atom is not None and atom <= stages["waiting"].ended  # when the store began: never "now" again


def test_a_feed_moves_when_an_entry_in_it_changes(stages: dict[str, Stage]) -> None:
    before = {lang: _feed_dates(stages["waiting"].feeds, lang) for lang in LANGUAGES}
    arrived = {lang: _feed_dates(stages["arrived"].feeds, lang) for lang in LANGUAGES}
    edited = {lang: _feed_dates(stages["edited"].feeds, lang) for lang in LANGUAGES}
    window = stages["arrived"]
    # Chinese went from 0 to every entry: its feed changed now, though every entry is dated in March.
    assert all(d is not None and window.began <= d <= window.ended for d in arrived["zh"]), arrived["zh"]
    # Nothing changed in the English and French entries: their feeds keep their dates.
    assert arrived["en"] == before["en"] and arrived["fr"] == before["fr"]
    # An edit changes an entry in every language.
    for lang in LANGUAGES:
        assert all(
            d is not None and stages["edited"].began <= d <= stages["edited"].ended for d in edited[lang]
        )


# -- the rule, case by case -------------------------------------------------------------------------------------

MARCH = datetime(2026, 3, 2, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source_says", "edited", "published", "due"),
    [
        (None, False, MARCH, MARCH),  # new, never changed: its publication
        (None, True, MARCH, NOW),  # an edit the source does not date: when the store saw it
        (MARCH + timedelta(days=2), False, MARCH, MARCH + timedelta(days=2)),  # the source's own time
        (MARCH + timedelta(days=2), True, MARCH, MARCH + timedelta(days=2)),  # ... for an edit too
        (MARCH - timedelta(days=2), False, MARCH, MARCH),  # never before publication
        (NOW + timedelta(days=3), False, MARCH, NOW),  # a source's clock ahead of ours: now
        (None, True, NOW + timedelta(days=3), NOW + timedelta(days=3)),  # embargoed: not before publication
    ],
)
def test_the_last_significant_change(
    source_says: datetime | None, edited: bool, published: datetime, due: datetime
) -> None:
    item = ArticleInput("s", "k", "en", "t", "<p>b</p>", published, modified=source_says)
    assert modified(item, NOW, edited=edited) == due
