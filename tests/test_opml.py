"""index.opml: clean by the W3C validator's OPML rules, and importable by a real reader (newsboat).

The rules are tests/support/opml_rules.py, shown against tests/data/opml/cases.toml (a document per rule and the
events the validator gives for it); docs/feeds.md says how to run the validator itself on the file.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from syndicator.cli import main
from tests.conftest import DATA, build_instance
from tests.support.feedserver import serve_folder
from tests.support.opml_rules import opml_events

CASES = tomllib.loads((DATA / "opml" / "cases.toml").read_text(encoding="utf-8"))["case"]
LANGUAGES = ("en", "fr", "ar", "zh")
FEED_ROOTS = {"rss", "{http://www.w3.org/2005/Atom}feed"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_the_rules_find_what_the_validator_finds(case: dict[str, Any]) -> None:
    assert opml_events(case["opml"].encode()) == case["events"]


def _publish(root: Path, feeds_url: str) -> Path:
    config = str(root / "config" / "syndicator.toml")
    assert main(["-q", "--config", config, "--set", f"site.feeds_url={feeds_url}", "run", "--once"]) == 0
    return root / "feeds"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    root = build_instance(tmp_path / "instance", targets=LANGUAGES[1:], engine="pseudo")
    (root / "feeds").mkdir()
    return root


def test_index_opml_is_clean_and_lists_only_feeds_readers_subscribe_to(instance: Path) -> None:
    feeds = _publish(instance, "https://news.example.org/feeds/")
    data = (feeds / "index.opml").read_bytes()
    assert opml_events(data) == []
    outlines = etree.fromstring(data).findall("body/outline")
    assert [group.attrib for group in outlines] == [
        {"text": t} for t in ("English", "Français", "العربية", "中文")
    ]
    listed = {o.get("xmlUrl") for o in etree.fromstring(data).iter("outline") if o.get("type") == "rss"}
    assert listed == {f"https://news.example.org/feeds/{lang}/{name}" for lang in LANGUAGES
                      for name in ("rss.xml", "atom.xml")}  # fmt: skip
    for url in listed:  # every outline typed "rss" is RSS or Atom XML
        path = feeds / url.removeprefix("https://news.example.org/feeds/")
        assert etree.parse(str(path)).getroot().tag in FEED_ROOTS, url


@pytest.mark.skipif(
    shutil.which("newsboat") is None, reason="newsboat is not installed (Debian package newsboat)"
)
def test_newsboat_imports_index_opml_and_reads_every_feed(instance: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with serve_folder(instance / "feeds") as base:
        feeds = _publish(instance, base)
        env = {"HOME": str(home), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}
        args = [
            "newsboat",
            "-u",
            str(home / "urls"),
            "-c",
            str(home / "cache.db"),
            "-C",
            str(home / "config"),
        ]
        (home / "config").write_text("auto-reload no\n", encoding="utf-8")
        (home / "urls").write_text("", encoding="utf-8")
        imported = subprocess.run([*args, "-i", str(feeds / "index.opml")], env=env, capture_output=True,
                                  text=True, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
        assert imported.returncode == 0, imported.stdout + imported.stderr
        urls = [line.split()[0] for line in (home / "urls").read_text(encoding="utf-8").splitlines() if line]
        assert len(urls) == 2 * len(LANGUAGES)
        read = subprocess.run([*args, "-x", "reload", "print-unread"], env=env, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert read.returncode == 0 and "rror" not in read.stdout + read.stderr, read.stdout + read.stderr
    # Each language's 3 articles once: its RSS and Atom feeds give an entry the same GUID, so subscribing to both
    # (as an import of the whole list does) shows no entry twice.
    assert f"{len(LANGUAGES) * 3} unread articles" in read.stdout, read.stdout
    with sqlite3.connect(home / "cache.db") as conn:  # every imported feed was read and has a title
        titles = dict(conn.execute("SELECT rssurl, title FROM rss_feed").fetchall())
    assert set(titles) == set(urls) and all(titles.values()), titles
