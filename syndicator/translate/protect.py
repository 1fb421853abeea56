"""Protected spans: what a model must not touch is replaced by placeholder tokens and restored afterwards.

Tokens are four-digit numbers, ``8001``, ``8002``…: numbers are the one kind of word that every installed
engine copies as it is. Letter tokens were measured to break (tests/test_token_scheme.py runs the proof on
every English→X Apertium pair): apertium-en-gl split "ZXQ1" into "ZXQ/ZXq/ZxQ/Zxq1" and "ZXQ dito2",
apertium-en-eo case-folded it after an abbreviation ("S-ro. Zxq1"); a number has no case, no inflection and no
inner boundary. URLs, e-mail addresses, numbers (re-punctuated for the locale where unambiguous:
translate/numbers.py), glossary terms, names, dates (rendered in the target locale) and inline HTML tags
(links, emphasis) become tokens. `Protected.restore` refuses output in which a token is
lost, duplicated, invented, split (a digit run the source did not have: "80 01", "8.001") or tags are
crossed: the caller then falls back to a safer mode.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from syndicator.translate.amounts import find_amounts, render_amount
from syndicator.translate.dates import find_dates, render
from syndicator.translate.names import find_names
from syndicator.translate.numbers import find_numbers, render_number
from syndicator.translate.times import find_times, render_time

# "8" then the token's number, at least three digits: 8001…8999, then 81000… (never ambiguous).
TOKEN_PREFIX = "8"
# Not part of a larger number ("3.8001", "8001,5") nor of a word ("A8001").
TOKEN_RE = re.compile(r"(?<![\w.,])8(\d{3,})(?!\w|[.,]\d)")
_DIGITS = re.compile(r"\d+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_TIGHT_BEFORE = re.compile(r"(\b8\d{3,}) (?=[.,;:!?)\]»”])")
_TIGHT_AFTER = re.compile(r"(?<=[(\[«“]) (8\d{3,}\b)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s*)$")
_ON_BEFORE_TAG = re.compile(r"(?<!\w)([Oo]n)(\s+)$")


@dataclass
class Span:
    """What one token stands for."""

    value: str  # the text (already in the target language) or the HTML tag it restores to
    kind: str = "text"  # "text", or "open" / "close" / "void" for inline HTML
    partner: int = 0  # an open tag's close token and vice versa
    space_before: bool = False
    space_after: bool = False
    upper: bool = False  # the source began with a capital: keep one at a sentence start


class Protector:
    """Finds the spans to protect in English text, rendered for one target language."""

    def __init__(
        self,
        language: str,
        year: int,
        terms: Sequence[tuple[str, str]] = (),
        skip: frozenset[str] = frozenset(),
        names: frozenset[str] | None = None,
        unrendered: Sequence[str] = (),
        source: str = "en",
    ) -> None:
        """`terms`: glossary (term, rendering) pairs for this language; `unrendered`: glossary terms with no
        rendering here (the engine translates them, whole); `skip`: kinds the engine keeps by itself
        ("number"); `names`: the article's known names (names.known_names), or None when names beyond the
        glossary are not protected; `source`: the text's language (numbers and times are read as English
        writes them, so other sources keep theirs as written)."""
        self.language, self.year, self.skip, self.names = language, year, skip, names
        self.english = source.split("-")[0].split("_")[0] == "en"
        self.terms: dict[str, str | None] = {t: None for t in unrendered}
        self.terms.update(terms)
        # One pattern for every term, longest first: a term the engine translates here still wins over a
        # shorter rendered term inside it, and over any name found inside it (the name rule would otherwise
        # freeze "Department of Culture" and leave "and Heritage" to the engine).
        alternatives = "|".join(re.escape(t) for t in sorted(self.terms, key=lambda t: -len(t)))
        self._terms = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if alternatives else None

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, replacement) spans, in text order."""
        candidates: list[tuple[int, int, int, str]] = []  # priority, start, end, value
        for m in _URL.finditer(text):
            candidates.append((0, m.start(), m.end(), m.group()))
        for m in _EMAIL.finditer(text):
            candidates.append((1, m.start(), m.end(), m.group()))
        whole: list[tuple[int, int]] = []  # terms left to the engine: no name may cut into them
        if self._terms is not None:
            for m in self._terms.finditer(text):
                rendering = self.terms[m.group()]
                if rendering is None:
                    whole.append(m.span())
                else:
                    candidates.append((2, m.start(), m.end(), rendering))
        # Dates, times, amounts and numbers all have digits: most text has none, and their patterns are
        # the dearest part of protecting a sentence.
        digits = _DIGITS.search(text) is not None
        for d in find_dates(text, self.year, self.language) if digits else []:
            candidates.append((3, d.start, d.end, render(d, self.language)))
        for t in find_times(text, self.language) if digits and self.english else []:
            candidates.append((4, t.start, t.end, render_time(t, self.language)))
        for a in find_amounts(text) if digits else []:
            candidates.append((4, a.start, a.end, render_amount(a, self.language)))
        if self.names is not None:
            for start, end in find_names(text, self.names):
                if all(end <= s or start >= e for s, e in whole):
                    candidates.append((5, start, end, text[start:end]))
        # A number the locale writes otherwise ("2,000" → es "2000") is always protected, rendered; so is a
        # number that looks like a token (else the output could not be told apart). Others only when the
        # engine does not keep numbers by itself.
        for n in find_numbers(text) if digits else []:
            # "1,250" is 1.25 in a Spanish source: only English numbers are read for re-punctuation.
            value = render_number(n, self.language) if self.english else n.text
            if value != n.text or "number" not in self.skip or TOKEN_RE.search(n.text):
                candidates.append((6, n.start, n.end, value))
        taken: list[tuple[int, int, str]] = []
        for _, start, end, value in sorted(candidates, key=lambda c: (c[0], c[1])):
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, value))
        return sorted(taken)

    def on_phrase(self, text: str) -> tuple[str | None, str] | None:
        """For "on" before a tag whose text opens with a date ("on <b>August 20</b>"): what "on" becomes, and
        the date as rendered after "on". The phrase is "el" in Spanish ("el <b>20 de agosto</b>"), "" where
        the language needs no preposition, None where it is not a plain prefix (Esperanto inflects the date:
        "<b>la 20-an de aŭgusto</b>"). None when the text does not open with a date phrased after "on"."""
        lead = len(text) - len(text.lstrip())
        dates = find_dates(f"on {text[lead:]}", self.year, self.language)
        if not dates or dates[0].start != 0 or dates[0].prep != "on":
            return None
        with_on = render(dates[0], self.language)
        alone = render(replace(dates[0], prep=""), self.language)
        return (with_on[: -len(alone)].strip() if with_on.endswith(alone) else None), with_on

    def pieces(self, text: str) -> list[tuple[str, bool, bool]]:
        """Text cut at its protected spans: (plain text, False, _) for the engine, (rendered span, True,
        whether the source began with a capital) kept.

        The safe mode's unit: no placeholder can be lost, and the glossary, names and dates still hold.
        """
        out: list[tuple[str, bool, bool]] = []
        pos = 0
        for start, end, value in self.spans(text):
            if start > pos:
                out.append((text[pos:start], False, False))
            out.append((value, True, text[start].isupper()))
            pos = end
        if pos < len(text):
            out.append((text[pos:], False, False))
        return out


@dataclass
class Protected:
    """A run of text (a title, or an HTML block's inline content) with its protected spans as tokens."""

    protector: Protector | None = None
    spans: list[Span] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # the source text alone, for spacing decisions
    usable: bool = True  # False when the source itself contains something that looks like a token
    # Digit runs of the source outside protected spans: any other digits in the output are a split token.
    digits: Counter[str] = field(default_factory=Counter)
    _pending: list[Span] = field(default_factory=list)
    _on_at: int | None = None  # the part that ends with "on", when only opening tags have come since

    def add_text(self, text: str) -> None:
        """Append source text, protecting what the protector finds in it."""
        if not text:
            return
        for span in self._pending:
            span.space_after = text[:1].isspace()
        self._pending = []
        on_date = None  # the date's rendering with "on" in it, when "on" went into the date's own span
        if self._on_at is not None and self.protector is not None:
            on_date = self._join_on(self._on_at, text)
        self._on_at = None
        pos = 0
        for start, end, value in self.protector.spans(text) if self.protector else []:
            if on_date is not None and not text[:start].strip():
                value, on_date = on_date, None
            if pos > 0 and text[pos:start] in ("", ".", ","):
                # Two spans touching ("$3" right after a term) or apart by a point ("OHA.HCL"): one token,
                # or "8001.8002" would read as one number.
                self.spans[-1].value += text[pos:start] + value
                pos = end
                continue
            self._bare(text[pos:start])
            self.parts.append(self._token(Span(value, upper=text[start].isupper())))
            pos = end
        self._bare(text[pos:])
        self.raw.append(text)

    def _bare(self, text: str) -> None:
        if TOKEN_RE.search(text):
            self.usable = False
        self.digits.update(_DIGITS.findall(text))
        self._on_at = len(self.parts) if _ON_BEFORE_TAG.search(text) else None
        self.parts.append(text)

    def _join_on(self, at: int, text: str) -> str | None:
        """ "on <b>August 20</b>": the date inside the tag is rendered alone, so "on" went to the engine on its
        own ("encima"). It becomes the language's own phrase for it ("el"), or nothing where the language has
        none; where the phrase changes the date itself, it goes into the date (returned: its rendering)."""
        assert self.protector is not None
        forms = self.protector.on_phrase(text)
        if forms is None:
            return None
        phrase, with_on = forms
        m = _ON_BEFORE_TAG.search(self.parts[at])
        assert m is not None
        replacement = self._token(Span(phrase, upper=m.group(1)[0].isupper())) if phrase else ""
        self.parts[at] = self.parts[at][: m.start(1)] + replacement + m.group(2)
        return with_on if phrase is None else None

    def add_tag(self, kind: str, markup: str) -> int:
        """Append an inline tag (or a whole element kept as is); returns its token number."""
        before = "".join(self.raw)
        span = Span(markup, kind, space_before=bool(before) and before[-1:].isspace())
        for earlier in self._pending:  # a tag right after a tag: no space between them
            earlier.space_after = False
        self._pending = [span]
        if kind != "open":
            self._on_at = None  # "on" then a closing tag or an image: not a date's preposition
        self.parts.append(f" {self._token(span)} ")
        return len(self.spans)

    def pair(self, open_index: int, close_index: int) -> None:
        """Record that two tag tokens open and close the same element."""
        self.spans[open_index - 1].partner = close_index
        self.spans[close_index - 1].partner = open_index

    def _token(self, span: Span) -> str:
        self.spans.append(span)
        return token(len(self.spans))

    @property
    def text(self) -> str:
        """What goes to the model (whitespace folded)."""
        text = re.sub(r"\s+", " ", "".join(self.parts)).strip()
        # The spaces put around tag tokens are not wanted before punctuation ("8004 ." reads oddly).
        return _TIGHT_AFTER.sub(r"\1", _TIGHT_BEFORE.sub(r"\1", text))

    def restore(self, output: str, *, markup: bool, spaced: bool = True) -> str | None:
        """The output with every token replaced, or None when tokens were lost, repeated, crossed or split."""
        found = [int(m.group(1)) for m in TOKEN_RE.finditer(output)]
        if sorted(found) != list(range(1, len(self.spans) + 1)) or not self._nested(found):
            return None
        texts = TOKEN_RE.split(output)[0::2]
        if not _only_source_digits(texts, self.digits):
            return None
        for i, number in enumerate(found):
            if (
                self.spans[number - 1].kind != "text"
            ):  # our own spaces around tags: spacing comes from the source
                texts[i], texts[i + 1] = texts[i].rstrip(), texts[i + 1].lstrip()
        escape = (lambda s: html.escape(s, quote=False)) if markup else (lambda s: s)
        out, plain = [escape(texts[0])], texts[0]
        for i, number in enumerate(found):
            span = self.spans[number - 1]
            if span.kind == "text":
                value = span.value
                if span.upper and value[:1].islower() and _SENTENCE_START.search(plain[-40:].rstrip()):
                    value = value[:1].upper() + value[1:]
                if value.endswith(".") and texts[i + 1].startswith("."):
                    value = value[:-1]  # "2026 г." ending a sentence: one period, not two
                out.append(escape(value))
                plain += value
            else:
                if spaced and span.space_before and plain and not plain[-1].isspace():
                    out.append(" ")
                    plain += " "
                out.append(span.value)
                if spaced and span.space_after:
                    out.append(" ")
                    plain += " "
            out.append(escape(texts[i + 1]))
            plain += texts[i + 1]
        return "".join(out)

    def _nested(self, order: list[int]) -> bool:
        # Elements must keep their source order too: the quality gate compares the element sequence, and
        # the safe mode is better than an article failed for two swapped links.
        starts = [n for n in order if self.spans[n - 1].kind in ("open", "void")]
        if starts != sorted(starts):
            return False
        stack: list[int] = []
        for number in order:
            span = self.spans[number - 1]
            if span.kind == "open":
                stack.append(number)
            elif span.kind == "close" and (not stack or stack.pop() != span.partner):
                return False
        return not stack


def _only_source_digits(texts: Sequence[str], source: Counter[str]) -> bool:
    """Whether the output's own digits (outside tokens) are digits the source had: "80 01", "8.001" and a
    lone "8" are pieces of a token the engine split, never to be published."""
    found = Counter(run for text in texts for run in _DIGITS.findall(text))
    return all(source[run] >= n for run, n in found.items())


def token(number: int) -> str:
    """Placeholder number `number` as the engine sees it."""
    return f"{TOKEN_PREFIX}{number:03d}"


def localize(sentence: str) -> tuple[str, list[int]]:
    """Renumber a sentence's tokens from 1, so equal sentences share a memory entry; returns the numbers."""
    numbers: list[int] = []

    def local(m: re.Match[str]) -> str:
        number = int(m.group(1))
        if number not in numbers:
            numbers.append(number)
        return token(numbers.index(number) + 1)

    return TOKEN_RE.sub(local, sentence), numbers


def globalize(output: str, numbers: Sequence[int]) -> str:
    """Back from a sentence's own numbering to the block's; an invented token becomes 8000 (invalid)."""

    def back(m: re.Match[str]) -> str:
        local = int(m.group(1))
        return token(numbers[local - 1] if 1 <= local <= len(numbers) else 0)

    return TOKEN_RE.sub(back, output)
