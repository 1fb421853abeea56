"""Dates, headlines and protected spans, one layer at a time, driven by tests/data/faithful/*.toml."""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from babel.numbers import parse_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicator.models import Article
from syndicator.translate.amounts import find_amounts, render_amount
from syndicator.translate.dates import find_dates, render
from syndicator.translate.document import Faithful, translate_articles
from syndicator.translate.headline import capitalize_first, proper_nouns, sentence_case, title_words
from syndicator.translate.names import find_names, known_names
from syndicator.translate.numbers import find_numbers, render_number
from syndicator.translate.protect import Protected, Protector, globalize, localize
from syndicator.translate.sentences import split_sentences
from syndicator.translate.times import find_times, render_time

DATA = Path(__file__).resolve().parent / "data" / "faithful"
LANGUAGES = ("es", "fr", "zh", "ar", "ru", "ca", "gl", "eo", "hr", "uk", "it")
NOW = datetime(2026, 3, 3, tzinfo=UTC)


def _cases(name: str) -> list[dict[str, Any]]:
    return list(tomllib.loads((DATA / name).read_text(encoding="utf-8"))["case"])


def _ids(cases: list[dict[str, Any]], key: str) -> list[str]:
    return [str(c[key])[:40] for c in cases]


DATE_CASES = _cases("dates.toml")


@pytest.mark.parametrize("case", DATE_CASES, ids=_ids(DATE_CASES, "text"))
def test_dates_are_found_and_rendered(case: dict[str, Any]) -> None:
    for language in LANGUAGES:
        found = find_dates(case["text"], 2026, language)
        if not case["found"]:
            assert found == [], language
            continue
        (date,) = found
        if "year" in case:
            assert date.first.year == case["year"]
        if language == "es":  # the language with every phrasing: the full span, preposition included
            assert date.text == case["found"]
        assert case["text"][date.start : date.end] == date.text
        if language in case:
            # CLDR puts narrow no-break spaces in some patterns; compare what a reader sees.
            assert render(date, language).replace("\u202f", " ") == case[language], language


HEADLINE_CASES = _cases("headlines.toml")


@pytest.mark.parametrize("case", HEADLINE_CASES, ids=_ids(HEADLINE_CASES, "title"))
def test_headlines_become_sentence_case(case: dict[str, Any]) -> None:
    names = proper_nouns(case.get("body", ""))
    assert sentence_case(case["title"], names, case.get("terms", [])) == case["expected"]


def test_capitalize_first_where_the_script_has_case() -> None:
    assert capitalize_first("«el festival»") == "«El festival»"
    assert capitalize_first("¿qué?") == "¿Qué?"
    assert capitalize_first("港口灯光节") == "港口灯光节"
    assert capitalize_first("3 de marzo") == "3 de marzo"
    assert capitalize_first("[fr] titre") == "[fr] titre"


PROTECT_CASES = _cases("protect.toml")


@pytest.mark.parametrize("case", PROTECT_CASES, ids=_ids(PROTECT_CASES, "text"))
def test_placeholders_round_trip(case: dict[str, Any]) -> None:
    terms = [tuple(t) for t in case.get("terms", [])]
    prot = Protected(Protector(case.get("language", "es"), 2026, terms))  # type: ignore[arg-type]
    prot.add_text(case["text"])
    assert prot.text == case["sent"]
    restored = prot.restore(case["output"], markup=False)
    assert (restored or "").replace("\u202f", " ") == (case["restored"] or ""), restored


def test_inline_html_round_trips_and_crossed_tags_are_refused() -> None:
    prot = Protected(Protector("es", 2026))
    prot.add_text("Read ")
    opened = prot.add_tag("open", '<a href="https://x.org/?a=1&amp;b=2">')
    prot.add_text("the <full> report")
    prot.pair(opened, prot.add_tag("close", "</a>"))
    prot.add_text(" now, ")
    em = prot.add_tag("open", "<em>")
    prot.add_text("free")
    prot.pair(em, prot.add_tag("close", "</em>"))
    prot.add_text(".")
    assert prot.text == "Read 8001 the <full> report 8002 now, 8003 free 8004."
    out = prot.restore("Lee 8001 el <completo> informe 8002 ahora, 8003 gratis 8004.", markup=True)
    assert (
        out
        == 'Lee <a href="https://x.org/?a=1&amp;b=2">el &lt;completo&gt; informe</a> ahora, <em>gratis</em>.'
    )
    assert prot.restore("Lee 8001 el informe 8003 ahora 8002 gratis 8004.", markup=True) is None  # crossed
    assert prot.restore("Lee 8002 el informe 8001 ahora 8003 gratis 8004.", markup=True) is None  # reversed
    # Both elements whole, but in the other order: refused (the element sequence must stay the source's)
    assert prot.restore("Lee 8003 gratis 8004, 8001 el informe 8002 ahora.", markup=True) is None
    # Chinese: no spaces around the tags
    zh = prot.restore("阅读 8001 报告 8002 现在，8003 免费 8004。", markup=True, spaced=False)
    assert zh == '阅读<a href="https://x.org/?a=1&amp;b=2">报告</a>现在，<em>免费</em>。'


def test_sentences_are_renumbered_for_the_memory() -> None:
    local, numbers = localize("Call 8007 or 8009.")
    assert (local, numbers) == ("Call 8001 or 8002.", [7, 9])
    assert globalize("Llame 8002 o 8001.", numbers) == "Llame 8009 o 8007."
    assert globalize("Llame 8003.", numbers) == "Llame 8000."  # an invented token stays invalid


def test_source_number_that_looks_like_a_token_becomes_one() -> None:
    """Even where numbers are left to the engine (Apertium), "8002" in the source could not be told apart
    from a placeholder: it is protected like one."""
    prot = Protected(Protector("es", 2026, skip=frozenset({"number"})))
    prot.add_text("Room 8002 has 12 beds.")
    assert prot.usable and prot.text == "Room 8001 has 12 beds."
    assert prot.restore("La sala 8001 tiene 12 camas.", markup=False) == "La sala 8002 tiene 12 camas."


# --- property: with an engine that changes nothing, a block comes back exactly as it went in ---------------

_WORDS = st.sampled_from(["the", "report", "Ocean", "is", "out", "on", "March 3, 2026", "1,250", "60%", "a.m.",
                          "https://x.org/a?b=1", "x@y.org", "OHA", "&", "<", "café", "now.", "Read"])  # fmt: skip
_TEXT = st.lists(_WORDS, min_size=1, max_size=6).map(" ".join)


@st.composite
def _inline(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "a", "em", "br", "code"] if depth < 2 else ["text"]))
        if kind == "text":
            parts.append(html.escape(draw(_TEXT), quote=False))
        elif kind == "a":
            parts.append(
                f'<a href="https://x.org/?q={draw(st.integers(0, 9))}&amp;r=1">{draw(_inline(depth + 1))}</a>'
            )
        elif kind == "em":
            parts.append(f"<em>{draw(_inline(depth + 1))}</em>")
        elif kind == "br":
            parts.append("<br>")
        else:
            parts.append("<code>x = 1</code>")
    return " ".join(parts)


class _Identity:
    source, target, engine, model_id, pivot = "en", "en", "identity", "identity:1", ""

    def split(self, text: str) -> list[str]:
        return split_sentences(text)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        return list(sentences)


@given(_inline())
@settings(max_examples=60, deadline=None)
def test_blocks_round_trip_through_placeholders(inner: str) -> None:
    body = f"<p>{inner}</p>"
    article = Article(
        id=1, source="s", key="k", language="en", title="T", summary="", body_html=body, author="", tags=(),
        image="", url="", published=NOW, first_seen=NOW, updated=NOW, content_hash="h",
    )  # fmt: skip
    (res,) = translate_articles(_Identity(), [article], _NoMemory(), faithful=Faithful())
    assert res.fallbacks == 0
    expected = lxml.html.tostring(lxml.html.fragment_fromstring(body), encoding="unicode")
    # Dates are re-rendered by CLDR for "en" ("March 3, 2026" stays); spacing inside is folded.
    assert re.sub(r"\s+", " ", res.body_html) == re.sub(r"\s+", " ", expected)


class _NoMemory:
    def translation_memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]:
        return {}

    def translation_memory_store(self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]) -> None:
        pass

    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None:
        pass


NAME_CASES = _cases("names.toml")


@pytest.mark.parametrize("case", NAME_CASES, ids=_ids(NAME_CASES, "text"))
def test_names_beyond_the_glossary(case: dict[str, Any]) -> None:
    known = known_names(f"{case.get('article', '')}\n{case['text']}")
    assert [case["text"][s:e] for s, e in find_names(case["text"], known)] == case["kept"]


AMOUNT_CASES = _cases("amounts.toml")


@pytest.mark.parametrize("case", AMOUNT_CASES, ids=_ids(AMOUNT_CASES, "text"))
def test_amounts_are_rendered_per_locale(case: dict[str, Any]) -> None:
    found = find_amounts(case["text"])
    if not case["found"]:
        assert found == []
        return
    (amount,) = found
    assert case["text"][amount.start : amount.end] == case["found"]
    for language in ("es", "ca", "fr", "de", "hr", "en"):
        if language in case:
            assert render_amount(amount, language).replace("\xa0", " ") == case[language], language


INLINE_DATE_CASES = _cases("inline_dates.toml")


@pytest.mark.parametrize("case", INLINE_DATE_CASES, ids=_ids(INLINE_DATE_CASES, "language"))
def test_on_before_a_date_in_inline_markup_keeps_its_phrase(case: dict[str, Any]) -> None:
    prot = Protected(Protector(case["language"], 2026))
    prot.add_text("Schools open on ")
    bold = prot.add_tag("open", "<b>")
    prot.add_text("Thursday, August 20")
    prot.pair(bold, prot.add_tag("close", "</b>"))
    prot.add_text(". On ")
    em = prot.add_tag("open", "<em>")
    prot.add_text("May 3")
    prot.pair(em, prot.add_tag("close", "</em>"))
    prot.add_text(" it rains, on ")  # a void tag between "on" and the date: not joined
    prot.add_tag("void", "<br>")
    prot.add_text("May 4.")
    assert prot.restore(prot.text, markup=True) == case["restored"]


NUMBER_CASES = _cases("numbers.toml")
NUMBER_LANGUAGES = ("es", "de", "fr", "ar", "it", "tr", "en", "ca", "gl", "eo", "zh", "ru")


@pytest.mark.parametrize("case", NUMBER_CASES, ids=_ids(NUMBER_CASES, "text"))
def test_numbers_take_the_locale_form_only_where_the_english_is_unambiguous(case: dict[str, Any]) -> None:
    found = find_numbers(case["text"])
    assert [n.text for n in found] == case["found"]
    for language in NUMBER_LANGUAGES:
        rendered = [render_number(n, language) for n in found]
        if case.get("kept"):
            assert rendered == case["found"], language
        elif language in case:
            assert rendered == case[language], language


_NUMBER_TEXT = st.lists(
    st.one_of(
        st.integers(0, 10**9).map(lambda n: f"{n:,}"),  # grouped
        st.decimals(0, 10**6, places=2).map(lambda d: f"{d:,}"),
        st.integers(0, 9999).map(str),  # no separators
        st.sampled_from(["1.2.3", "7.30", "1,5", "10.0.0.1", "555-1234", "%", " percent", " km", "$", "€"]),
        st.sampled_from([" ", " books ", ", ", " at ", "; "]),
    ),
    max_size=12,
).map("".join)


@given(_NUMBER_TEXT, st.sampled_from(NUMBER_LANGUAGES))
@settings(max_examples=300, deadline=None)
def test_a_rendered_number_keeps_its_value_and_an_ambiguous_one_its_text(text: str, language: str) -> None:
    for n in find_numbers(text):
        rendered = render_number(n, language)
        if n.value is None:
            assert rendered == n.text
            continue
        # The same digits, and read back in the target locale, the same value.
        assert re.findall(r"\d", rendered) == re.findall(r"\d", n.text), (n.text, rendered)
        if not (n.currency or n.percent):
            assert parse_decimal(rendered, locale=language.replace("-", "_"), strict=True) == n.value


TIME_CASES = _cases("times.toml")


@pytest.mark.parametrize("case", TIME_CASES, ids=_ids(TIME_CASES, "text"))
def test_clock_times_are_found_and_rendered(case: dict[str, Any]) -> None:
    found = find_times(case["text"], "es")
    assert [case["text"][t.start : t.end] for t in found] == case["found"]
    for language in ("es", "gl", "ca", "eo", "fr", "ar", "pt"):
        if language in case:
            rendered = [render_time(t, language) for t in find_times(case["text"], language)]
            assert rendered == case[language], language


def test_numbers_and_times_of_other_source_languages_stay_as_written() -> None:
    # "1,250" is 1.25 and "2.000" two thousand in a Spanish source: never re-read as English.
    prot = Protected(Protector("en", 2026, source="es"))
    prot.add_text("Costó 1,250 euros, 2.000 km y 3,5% a las 7 p.m.")
    assert prot.restore(prot.text, markup=False) == "Costó 1,250 euros, 2.000 km y 3,5% a las 7 p.m."


def test_headline_keeps_what_the_engine_does_not_know_as_a_common_word() -> None:
    title = "Harbour Festival Returns To Lisbon With Free Concerts"
    assert title_words(title) >= {"lisbon", "festival"}
    common = {"festival", "returns", "to", "with", "free", "concerts"}  # an analyser has no "lisbon"
    assert sentence_case(title, (), (), common) == "Harbour festival returns to Lisbon with free concerts"
    assert sentence_case(title) == "Harbour festival returns to lisbon with free concerts"  # no dictionary


class _Lexicon(_Identity):
    """The identity engine with a dictionary of ordinary lower-case words."""

    def common_words(self, words: Sequence[str]) -> frozenset[str]:
        return frozenset(words) - {"lisbon", "porto", "monday"}  # what Apertium's analyser lacks too


def test_summary_that_repeats_the_headline_is_no_evidence_of_names() -> None:
    title = "Ferry Line From Porto Opens Monday"
    article = Article(
        id=1, source="s", key="k", language="en", title=title, summary=title, body_html="<p>It opens.</p>",
        author="", tags=(), image="", url="", published=NOW, first_seen=NOW, updated=NOW, content_hash="h",
    )  # fmt: skip
    (res,) = translate_articles(_Lexicon(), [article], _NoMemory(), faithful=Faithful())
    assert res.title == "Ferry line from Porto opens Monday"
