"""Faithful translation end to end: the CLI, SQLite, real engines (Apertium eng-spa, tiny Argos), feedparser."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.html
import pytest

from syndicator.cli import main
from syndicator.store import Store
from tests.support.edits import edit_file
from tests.test_apertium import needs_apertium

DATA = Path(__file__).resolve().parent / "data" / "faithful"
HREF = "https://news.example.org/ferry?line=3&day=1"


def _instance(make_instance: Callable[..., Path], **config: object) -> Path:
    root = make_instance(articles=[], **config)
    shutil.copy(DATA / "articles" / "2026-03-02-ferry-opening.md", root / "articles")
    shutil.copy(DATA / "glossary.toml", root / "config" / "glossary.toml")
    return root


def _run(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _entry(root: Path, language: str) -> feedparser.FeedParserDict:
    feed = feedparser.parse((root / "feeds" / language / "atom.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    (entry,) = feed.entries
    return entry


def _no_placeholder_published(root: Path) -> None:
    for path in (root / "feeds").rglob("*"):
        if path.is_file():
            assert b"ZXQ" not in path.read_bytes().upper(), path


def _structure(content: str) -> lxml.html.HtmlElement:
    tree = lxml.html.fragment_fromstring(content, create_parent="div")
    links = [a for a in tree.iter("a") if a.get("href") == HREF]
    assert len(links) == 1 and links[0].text_content().strip(), "the inline link survives, with its text"
    assert len(tree.findall(".//li")) == 2 and len(tree.findall(".//li/em")) == 1
    return tree


@needs_apertium
def test_spanish_through_apertium_keeps_names_numbers_links_and_dates(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _instance(make_instance, targets=("es",), extra='\n[translation.engines]\nes = "apertium"\n')
    assert _run(root, "run", "--once") == 0
    assert "es: 1 translated" in capsys.readouterr().out
    entry = _entry(root, "es")
    content = entry.content[0].value
    text = _structure(content).text_content()
    # Real Spanish, not the English source
    assert "dijo" in text and "abrirá" in text and "residentes" in text
    # Names and glossary terms: kept, or given their fixed Spanish name
    assert "Grace Long" in text and "Mucho tiempo" not in text
    assert "(OHA)" in text and "*OHA" not in text
    assert "Autoridad Portuaria del Océano" in text
    # URLs and e-mail addresses intact; numbers and times in Spanish form ("1,250" would read as 1.25)
    for kept in ("https://news.example.org/ferry", "ferry@oha.example.org"):
        assert kept in text, kept
    for spanish in ("3,5 dólares", "1250 residentes", "60\u00a0%", "a las 6:00", "a las 23:00"):
        assert spanish in text, spanish
    assert "1,250" not in text and "3.5" not in text and "p.m." not in text
    # Dates read as Spanish dates; the title was sentence-cased and its date rendered too
    assert "3 de marzo de 2026" in text and "Marcha" not in text
    assert "del 12 al 14 de mayo" in text
    assert "3 de marzo" in entry.title and entry.title[0].isupper()
    assert "Autoridad Portuaria del Océano (OHA)" in entry.summary
    _no_placeholder_published(root)
    # An edit that changes a date and a number. The sentence memory is keyed by the text with placeholders:
    # the sentence with the new date is a memory hit, and so is the one with the new number (Apertium keeps
    # numbers by itself, but "1,300" is written "1300" in Spanish, so it is a placeholder): nothing goes to
    # Apertium again.
    store = Store(f"sqlite:///{root / 'data' / 'syndicator.db'}")
    size, _, misses = store.translation_memory_stats()["en>es"]
    article = root / "articles" / "2026-03-02-ferry-opening.md"
    edit_file(article, "1,250 residents", "1,300 residents")
    edit_file(article, "from May 12 to 14", "from June 2 to 4")
    assert _run(root, "run", "--once") == 0
    assert store.translation_memory_stats()["en>es"][::2] == (size, misses)
    text = lxml.html.fragment_fromstring(
        _entry(root, "es").content[0].value, create_parent="div"
    ).text_content()
    assert "1300 residentes" in text and "del 2 al 4 de junio" in text


def test_missing_apertium_pair_is_no_model_with_the_package_to_install(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _instance(make_instance, targets=("fr",), extra='\n[translation.engines]\nfr = "apertium"\n')
    assert _run(root, "run", "--once") == 0  # the cycle goes on; the English feed is published
    assert "fr: 1 without a model" in capsys.readouterr().out
    assert _run(root, "status", "--json") == 0
    errors = json.loads(capsys.readouterr().out)["languages"]
    fr = next(row for row in errors if row["language"] == "fr")
    assert "no apertium model for en → fr" in fr["errors"][0]
    # Debian has no English→French pair: the hint says how to look and offers Argos, never a made-up name.
    assert "apertium-eng-fra" not in fr["errors"][0]
    assert "apt-cache search apertium" in fr["errors"][0] and 'fr = "argos"' in fr["errors"][0]
    # `check` says so before any run.
    assert _run(root, "check") == 0
    assert 'fr is set to "apertium", but no installed Apertium mode' in capsys.readouterr().out

    # Switched to Argos: status gives the current engine's reason, not Apertium's advice from the last run.
    config = root / "config" / "syndicator.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('fr = "apertium"', 'fr = "argos"'))
    assert _run(root, "status", "--json") == 0
    rows = json.loads(capsys.readouterr().out)["languages"]
    reasons = " ".join(next(row for row in rows if row["language"] == "fr")["errors"])
    assert "no argos model for en → fr" in reasons and "apertium" not in reasons


def test_tiny_argos_model_loses_placeholders_and_falls_back_safely(
    make_instance: Callable[..., Path],
    model_files: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The tiny model's output is noise: no placeholder survives, so every protected run is translated
    node by node instead; the structure, the link and its address are intact and no token is published."""
    root = _instance(make_instance, targets=("fr",))
    assert _run(root, "models", "install", str(model_files("en", "fr"))) == 0
    assert _run(root, "run", "--once") == 0
    assert "fr: 1 translated" in capsys.readouterr().out
    entry = _entry(root, "fr")
    _structure(entry.content[0].value)
    assert entry.title
    _no_placeholder_published(root)
