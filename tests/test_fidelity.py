"""Fidelity through every English→X Apertium pair Debian ships: nothing damaged is ever published.

One article with names after honorifics, organisations, acronyms in brackets, dates, a range, an amount, a
link and an e-mail address (tests/data/fidelity/), its expectations beside it (expected.toml).
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path

import feedparser
import frontmatter
import lxml.html
import pytest
from markdown_it import MarkdownIt

from syndicator.cli import main
from syndicator.glossary import load_glossary
from syndicator.models import Article
from syndicator.store import Store
from syndicator.translate import PairTranslator, Signals, quality
from syndicator.translate.document import Faithful, TranslatedText, translate_articles
from syndicator.translate.protect import TOKEN_RE
from tests.support.apertium import english_pair, english_pairs, needs_mode

DATA = Path(__file__).resolve().parent / "data" / "fidelity"
ARTICLE = DATA / "2026-03-02-harbour-festival.md"
EXPECTED = tomllib.loads((DATA / "expected.toml").read_text(encoding="utf-8"))
NAMES = ("Grace Long", "Daniel Okafor", "(OHA)", "(HCL)", "Ocean Harbour Authority", "Long ")
LINK = "https://festival.example.org/programme?year=2026&lang=en"
# A mark left on a word (e-mail addresses are not words), or a punctuation lemma leaking out.
ARTEFACT = re.compile(r"[*#@]\w|\w[*#@](?!\w+\.\w)|parquote|\.\.(?!\.)")


def _article() -> Article:
    post = frontmatter.load(ARTICLE)
    when = post["date"].replace(tzinfo=UTC)
    return Article(
        id=1, source="newsroom", key="harbour-festival", language="en", title=str(post["title"]),
        summary=str(post["summary"]), body_html=MarkdownIt().render(post.content), author="",
        tags=tuple(post["tags"]), image="", url="", published=when, first_seen=when, updated=when,
        content_hash="h",
    )  # fmt: skip


def _glossary(tmp_path: Path) -> Faithful:
    (tmp_path / "config").mkdir(exist_ok=True)
    shutil.copy(DATA / "glossary.toml", tmp_path / "config" / "glossary.toml")
    return Faithful(glossary=load_glossary(tmp_path))


def _text(result: TranslatedText) -> str:
    body = lxml.html.fragment_fromstring(result.body_html, create_parent="div").text_content()
    return " ".join([result.title, result.summary, body, *result.tags])


def _assert_faithful(result: TranslatedText, language: str) -> None:
    text = _text(result)
    assert not TOKEN_RE.search(text) and "zxq" not in text.casefold(), text  # no token debris
    assert not ARTEFACT.search(text.replace("info@festival.example.org", "")), text  # no mark artefacts
    for name in NAMES:
        assert name in text, name
    assert EXPECTED[language]["council"] in text
    for date in EXPECTED[language]["dates"]:
        assert date in text, date
    assert "info@festival.example.org" in text
    tree = lxml.html.fragment_fromstring(result.body_html, create_parent="div")
    assert [a.get("href") for a in tree.iter("a")] == [LINK]
    assert len(tree.findall("p")) == 3


@pytest.mark.parametrize(("language", "mode"), english_pairs())
def test_every_pair_keeps_names_dates_links_and_publishes_no_debris(
    tmp_path: Path, language: str, mode: str
) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    (result,) = translate_articles(
        english_pair(tmp_path, language), [_article()], store, faithful=_glossary(tmp_path)
    )
    assert result.error == ""
    _assert_faithful(result, language)
    assert result.signals.marked and result.signals.words > 40


class _LosingOne:
    """A real Apertium pair that loses the first placeholder of every sentence mentioning the director,
    as en-gl did with letter tokens."""

    def __init__(self, pair: PairTranslator) -> None:
        self.pair = pair
        self.source, self.target, self.engine, self.pivot = pair.source, pair.target, pair.engine, ""
        self.model_id = pair.model_id + ":losing"

    def split(self, text: str) -> list[str]:
        return self.pair.split(text)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        out = self.pair.translate_batch(sentences)
        return [
            TOKEN_RE.sub("", o, count=1) if "director" in s else o
            for s, o in zip(sentences, out, strict=True)
        ]

    def read_marks(self, source: str, output: str) -> tuple[str, int, int]:
        return self.pair.read_marks(source, output)  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(("language", "mode"), english_pairs())
def test_a_block_that_loses_a_token_falls_back_and_keeps_every_protection(
    tmp_path: Path, language: str, mode: str
) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    losing = _LosingOne(english_pair(tmp_path, language))
    (result,) = translate_articles(losing, [_article()], store, faithful=_glossary(tmp_path))  # type: ignore[arg-type]
    assert result.fallbacks == 1  # the first paragraph only
    _assert_faithful(result, language)


@needs_mode("eng-hbs_HR", "apertium-hbs-eng")
def test_mostly_untranslated_output_is_failed_not_published(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """eng-hbs leaves most English words untranslated (marked @ or #): the unknown-word gate fails it."""
    engines = '\n[translation.engines]\nhr = "apertium"\nes = "apertium"\n'
    root = make_instance(articles=[], targets=("hr", "es"), extra=engines)
    shutil.copy(ARTICLE, root / "articles")
    # Retried on the next cycle (not 10 minutes later), to show a laxer bound at work below.
    config = [
        "-q",
        "--config",
        str(root / "config" / "syndicator.toml"),
        "--set",
        "translation.retry_after=0s",
    ]
    assert main([*config, "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "hr: 1 failed" in out and "es: 1 translated" in out
    assert not feedparser.parse((root / "feeds" / "hr" / "atom.xml").read_bytes()).entries
    assert feedparser.parse((root / "feeds" / "es" / "atom.xml").read_bytes()).entries  # the good one is
    assert main([*config, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    rows = {row["language"]: row for row in status["languages"]}
    assert "marked unknown or untranslatable" in rows["hr"]["errors"][0]
    assert 0 <= rows["es"]["unknown_ratio"]["max"] <= 0.1
    feed = json.loads((root / "feeds" / "es" / "feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["_syndicator"]["translation"]["unknown_ratio"] <= 0.1
    # A laxer bound for Croatian lets it through.
    assert main([*config, "--set", "translation.max_unknown_ratios.hr=1", "run", "--once"]) == 0
    assert "hr: 1 translated" in capsys.readouterr().out


class _Degenerate:
    """A synthetic engine: copies sentences through, or loops."""

    source, target, engine, model_id, pivot = "en", "fr", "synthetic", "synthetic:1", ""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def split(self, text: str) -> list[str]:
        return [text]

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        if self.mode == "copy":
            return list(sentences)
        return [f"{s.split()[0]} la ville la ville la ville la ville" for s in sentences]


@pytest.mark.parametrize(("mode", "reason"), [("copy", "came back untranslated"), ("loop", "in a loop")])
def test_degenerate_engine_output_fails(tmp_path: Path, mode: str, reason: str) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    (result,) = translate_articles(_Degenerate(mode), [_article()], store, faithful=Faithful(names=False))  # type: ignore[arg-type]
    problem = quality.signal_problem(result.signals, "synthetic", 0.1)
    assert reason in problem
    assert result.signals.unknown_ratio is None  # an engine that marks nothing has no ratio


def test_signal_gate_bounds() -> None:
    assert quality.signal_problem(Signals(words=100, unknown=10, marked=True), "apertium", 0.1) == ""
    assert "11%" in quality.signal_problem(Signals(words=100, unknown=11, marked=True), "apertium", 0.1)
    assert quality.signal_problem(Signals(sentences=10, copied=3), "argos", 0.1) == ""
    assert quality.signal_problem(Signals(sentences=10, copied=4), "argos", 0.1)
    assert quality.loops("the city, the city, the city, the city") and not quality.loops("w w w w")


def test_hand_made_instance_without_locales_speaks_the_target_language(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """No locales/ folder (made by hand): the package's catalogs serve; a language no catalog covers is
    reported by check and status, never silently mixed."""
    root = make_instance(articles=[], targets=("es", "gl", "pt"), engine="pseudo")
    shutil.rmtree(root / "locales")
    shutil.copy(ARTICLE, root / "articles")
    config = ["-q", "--config", str(root / "config" / "syndicator.toml")]
    assert main([*config, "check"]) == 0
    out = capsys.readouterr().out
    assert "warning: no interface catalog for pt" in out
    assert "catalog for es" not in out and "catalog for gl" not in out
    assert main([*config, "run", "--once"]) == 0
    capsys.readouterr()
    for language, notice, published in (
        ("es", "Este artículo fue traducido automáticamente del inglés.", "Publicado el 2 de marzo de 2026"),
        (
            "gl",
            "Este artigo foi traducido automaticamente. Lingua orixinal: inglés.",
            "Publicado o 2 de marzo de 2026",
        ),
    ):
        (entry,) = feedparser.parse((root / "feeds" / language / "atom.xml").read_bytes()).entries
        content = entry.content[0].value
        assert notice in content and published in content, content
        assert "machine-translated" not in content and "Published" not in content
    assert main([*config, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["catalogs_missing"] == ["pt"]
