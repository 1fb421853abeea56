"""Protected spans: what a model must not touch is replaced by placeholder tokens and restored afterwards.

Tokens look like ``ZXQ1``: a short uppercase "word" that Apertium passes through as an unknown word and
neural models copy like an acronym. URLs, e-mail addresses, numbers, glossary terms, dates (rendered in the
target locale) and inline HTML tags (links, emphasis) become tokens. `Protected.restore` refuses output in
which a token is lost, duplicated, invented or tags are crossed: the caller then falls back to a safer mode.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from syndicator.translate.dates import find_dates, render

TOKEN = "ZXQ{}"
TOKEN_RE = re.compile(r"\bZXQ(\d+)\b", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_NUMBER = re.compile(r"(?<![\w.,])[$€£¥]?\d+(?:[.,]\d+)*(?:\s?%)?(?!\w)")
_TIGHT_BEFORE = re.compile(r"(\bZXQ\d+) (?=[.,;:!?)\]»”])")
_TIGHT_AFTER = re.compile(r"(?<=[(\[«“]) (ZXQ\d+\b)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s*)$")


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
    ) -> None:
        self.language, self.year, self.skip = language, year, skip
        self.terms = dict(terms)
        alternatives = "|".join(re.escape(t) for t, _ in sorted(terms, key=lambda tr: -len(tr[0])))
        self._terms = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if alternatives else None

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, replacement) spans, in text order."""
        candidates: list[tuple[int, int, int, str]] = []  # priority, start, end, value
        for m in _URL.finditer(text):
            candidates.append((0, m.start(), m.end(), m.group()))
        for m in _EMAIL.finditer(text):
            candidates.append((1, m.start(), m.end(), m.group()))
        if self._terms is not None:
            for m in self._terms.finditer(text):
                candidates.append((2, m.start(), m.end(), self.terms[m.group()]))
        for d in find_dates(text, self.year, self.language):
            candidates.append((3, d.start, d.end, render(d, self.language)))
        for m in _NUMBER.finditer(text) if "number" not in self.skip else ():
            candidates.append((4, m.start(), m.end(), m.group()))
        taken: list[tuple[int, int, str]] = []
        for _, start, end, value in sorted(candidates, key=lambda c: (c[0], c[1])):
            if all(end <= s or start >= e for s, e, _ in taken):
                taken.append((start, end, value))
        return sorted(taken)


@dataclass
class Protected:
    """A run of text (a title, or an HTML block's inline content) with its protected spans as tokens."""

    protector: Protector | None = None
    spans: list[Span] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # the source text alone, for spacing decisions
    usable: bool = True  # False when the source itself contains something that looks like a token
    _pending: list[Span] = field(default_factory=list)

    def add_text(self, text: str) -> None:
        """Append source text, protecting what the protector finds in it."""
        if not text:
            return
        if TOKEN_RE.search(text):
            self.usable = False
        for span in self._pending:
            span.space_after = text[:1].isspace()
        self._pending = []
        pos = 0
        for start, end, value in self.protector.spans(text) if self.protector else []:
            self.parts.append(text[pos:start])
            self.parts.append(self._token(Span(value, upper=text[start].isupper())))
            pos = end
        self.parts.append(text[pos:])
        self.raw.append(text)

    def add_tag(self, kind: str, markup: str) -> int:
        """Append an inline tag (or a whole element kept as is); returns its token number."""
        before = "".join(self.raw)
        span = Span(markup, kind, space_before=bool(before) and before[-1:].isspace())
        for earlier in self._pending:  # a tag right after a tag: no space between them
            earlier.space_after = False
        self._pending = [span]
        self.parts.append(f" {self._token(span)} ")
        return len(self.spans)

    def pair(self, open_index: int, close_index: int) -> None:
        """Record that two tag tokens open and close the same element."""
        self.spans[open_index - 1].partner = close_index
        self.spans[close_index - 1].partner = open_index

    def _token(self, span: Span) -> str:
        self.spans.append(span)
        return TOKEN.format(len(self.spans))

    @property
    def text(self) -> str:
        """What goes to the model (whitespace folded)."""
        text = re.sub(r"\s+", " ", "".join(self.parts)).strip()
        # The spaces put around tag tokens are not wanted before punctuation ("ZXQ4 ." reads oddly).
        return _TIGHT_AFTER.sub(r"\1", _TIGHT_BEFORE.sub(r"\1", text))

    def restore(self, output: str, *, markup: bool, spaced: bool = True) -> str | None:
        """The output with every token replaced, or None when tokens were lost, repeated or crossed."""
        found = [int(m.group(1)) for m in TOKEN_RE.finditer(output)]
        if sorted(found) != list(range(1, len(self.spans) + 1)) or not self._nested(found):
            return None
        texts = TOKEN_RE.split(output)[0::2]
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
                if span.upper and value[:1].islower() and _SENTENCE_START.search(plain.rstrip() or ""):
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


def localize(sentence: str) -> tuple[str, list[int]]:
    """Renumber a sentence's tokens from 1, so equal sentences share a memory entry; returns the numbers."""
    numbers: list[int] = []

    def local(m: re.Match[str]) -> str:
        number = int(m.group(1))
        if number not in numbers:
            numbers.append(number)
        return TOKEN.format(numbers.index(number) + 1)

    return TOKEN_RE.sub(local, sentence), numbers


def globalize(output: str, numbers: Sequence[int]) -> str:
    """Back from a sentence's own numbering to the block's; an invented token becomes ZXQ0 (invalid)."""

    def back(m: re.Match[str]) -> str:
        local = int(m.group(1))
        return TOKEN.format(numbers[local - 1] if 1 <= local <= len(numbers) else 0)

    return TOKEN_RE.sub(back, output)
