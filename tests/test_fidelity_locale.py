"""Numbers, clock times and glossary terms through real engines: the target's own forms, terms never cut.

tests/data/fidelity/locale/: an article whose numbers, times and one glossary term must come out in each
English→X Apertium pair's own form (expected.toml beside it). The glossary matrix below crosses every engine
installed here (the Apertium pairs, the pseudo engine) with a term that has a rendering for the language,
one kept as written, and one with neither: the name rule must never freeze part of it.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.models import Article
from syndicator.translate.names import known_names
from syndicator.translate.protect import TOKEN_RE, Protector
from syndicator.translate.pseudo import PseudoEngine
from tests.support.apertium import ENGLISH_PAIRS, english_pair, english_pairs, needs_mode
from tests.support.fidelity import faithful_with, translate_one, visible_text

DATA = Path(__file__).resolve().parent / "data" / "fidelity" / "locale"
EXPECTED = tomllib.loads((DATA / "expected.toml").read_text(encoding="utf-8"))
WHEN = datetime(2026, 3, 2, 9, tzinfo=UTC)
TERM = "Department of Culture and Heritage"
# A rendering for each language the matrix runs in (what it is does not matter: that it is used whole does).
RENDERING = {"es": "Departamento de Cultura y Patrimonio", "ca": "Departament de Cultura i Patrimoni",
             "gl": "Departamento de Cultura e Patrimonio", "eo": "Departemento de Kulturo kaj Heredaĵo",
             "hr": "Odjel za kulturu i baštinu"}  # fmt: skip


def _article(title: str, summary: str, body: str) -> Article:
    return Article(
        id=1, source="newsroom", key="library", language="en", title=title, summary=summary,
        body_html=body, author="", tags=(), image="", url="", published=WHEN, first_seen=WHEN, updated=WHEN,
        content_hash="h",
    )  # fmt: skip


def _word(needle: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text) is not None


@pytest.mark.parametrize(("language", "mode"), english_pairs())
def test_numbers_times_and_terms_take_the_target_form(tmp_path: Path, language: str, mode: str) -> None:
    article = _article(EXPECTED["title"], EXPECTED["summary"], (DATA / "article.html").read_text("utf-8"))
    faithful = faithful_with(tmp_path, (DATA / "glossary.toml").read_text("utf-8"))
    text = visible_text(translate_one(tmp_path, english_pair(tmp_path, language), article, faithful))
    assert not TOKEN_RE.search(text), text
    wanted = EXPECTED.get(language, {})
    for needle in [*EXPECTED["all"]["contains"], *wanted.get("contains", [])]:
        assert needle in text, (needle, text)
    for needle in [*EXPECTED["all"]["absent"], *wanted.get("absent", [])]:
        assert not _word(needle, text), (needle, text)


GLOSSARIES = {
    "rendered": lambda language: f'[term."{TERM}"]\n{language} = "{RENDERING[language]}"\n',
    "kept": lambda language: f'[term."{TERM}"]\nfr = "Ministère de la Culture"\nkeep = true\n',
    "neither": lambda language: f'[term."{TERM}"]\nfr = "Ministère de la Culture"\n',
}
SENTENCES = (
    f"The {TERM} (DCH) opens a library.",  # mid-sentence: the name rule's own case
    f"{TERM} staff said the {TERM} will pay.",  # opening a sentence, then again
)


def _engines() -> list[object]:
    pairs = [pytest.param("apertium", lang, marks=needs_mode(mode, pkg), id=f"apertium-{lang}")
             for lang, mode, pkg in ENGLISH_PAIRS]  # fmt: skip
    return [*pairs, *(pytest.param("pseudo", lang, id=f"pseudo-{lang}") for lang in RENDERING)]


@pytest.mark.parametrize("kind", list(GLOSSARIES))
@pytest.mark.parametrize(("engine", "language"), _engines())
def test_a_glossary_term_is_never_cut_by_the_name_rule(
    tmp_path: Path, engine: str, language: str, kind: str
) -> None:
    faithful = faithful_with(tmp_path, GLOSSARIES[kind](language))
    pair = english_pair(tmp_path, language) if engine == "apertium" else PseudoEngine().pair("en", language)
    assert pair is not None
    body = "".join(f"<p>{s}</p>" for s in SENTENCES)
    text = visible_text(
        translate_one(tmp_path, pair, _article(f"News from the {TERM}", SENTENCES[0], body), faithful)
    )
    if kind == "rendered":
        assert RENDERING[language] in text, text
    if kind == "kept":
        assert text.count(TERM) == 5, text  # title, summary, three in the body
    # Whole or not at all: once the whole term (as kept, or as the pseudo engine echoes it) is taken out, no
    # word of it is left in English.
    rest = text.replace(TERM, " ")
    for word in ("Department", "Culture", "Heritage"):
        assert not _word(word, rest), (word, text)


@pytest.mark.parametrize("kind", list(GLOSSARIES))
def test_no_protected_span_cuts_into_a_glossary_term(tmp_path: Path, kind: str) -> None:
    glossary = faithful_with(tmp_path, GLOSSARIES[kind]("es")).glossary
    text = " ".join(SENTENCES)
    protector = Protector(
        "es", 2026, glossary.for_language("es"), names=known_names(text), unrendered=glossary.unrendered("es")
    )
    terms = [(m.start(), m.end()) for m in re.finditer(re.escape(TERM), text)]
    for start, end, _ in protector.spans(text):
        for t_start, t_end in terms:
            assert end <= t_start or start >= t_end or (start <= t_start and t_end <= end), text[start:end]
