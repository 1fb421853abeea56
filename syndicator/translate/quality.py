"""Quality gates: decide whether a machine translation may be published, and say why not.

A translation that comes back empty, unchanged, far too short or long, or with broken HTML is refused (marked
failed with the reason) instead of being published as if it were fine. So is one whose engine says it failed:
too many words Apertium marked unknown (a per-language bound), sentences copied through untranslated, or a
decoder stuck repeating a phrase. Engines are deterministic, so a refusal is not retried on a timer: only when
something it depends on changes (`depends_on`), or its article does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

from syndicator.config import TranslationConfig
from syndicator.config.languages import primary_language
from syndicator.translate import PairTranslator, Signals

# Languages written mostly in Han, kana or hangul syllables: a few characters carry a whole word.
CJK_LANGUAGES = frozenset({"zh", "ja", "ko", "yue", "wuu"})
# Fields shorter than this (in letters) are too short for a meaningful length ratio ("Ms. Long" → "Mme Long").
MIN_LETTERS_FOR_RATIO = 20
# Unchanged text is suspicious only when it has this many ordinary (lower-case) words: names, acronyms and
# numbers legitimately survive translation as they are.
MIN_WORDS_FOR_UNCHANGED = 3
MAX_BACKOFF = timedelta(days=1)
# Elements that have no end tag.
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_PLAIN_WORD = re.compile(r"\b[^\W\d_A-Z][^\W\d_]{2,}\b")  # lower-case words of three letters or more
# More than this share of an article's sentences (with MIN_WORDS_FOR_UNCHANGED ordinary words) coming back
# exactly as they went in is an engine that did not translate, not a few quotes left in the original.
MAX_COPIED_SHARE = 0.3
# A ratio over a handful of words is noise: one name Apertium does not know in a nine-word brief is 11%, yet
# the brief reads fine. The unknown-word gate also needs this many marked words, so it judges articles long
# enough for the ratio to mean something (at the default 10%, from about 30 words on) and never refuses a
# brief for one or two names; a short text in which most words are marked still has three and is refused.
MIN_UNKNOWN_WORDS = 3
# Likewise the copied-through gate wants this many copied sentences unless every judged sentence was copied:
# one quoted English sentence of three is not an engine that did not translate.
MIN_COPIED_SENTENCES = 2
# A phrase of up to LOOP_PHRASE words repeated this many times in a row: a decoder stuck in a loop.
LOOP_REPEATS = 4
LOOP_PHRASE = 3
_WORD = re.compile(r"\w+")


def length_bounds(translation: TranslationConfig, source: str, target: str) -> tuple[float, float]:
    """The translated/source length ratios accepted from `source` into `target` (translation.length_ratio*)."""
    src, tgt = primary_language(source) in CJK_LANGUAGES, primary_language(target) in CJK_LANGUAGES
    if tgt and not src:
        return translation.length_ratio_to_cjk
    if src and not tgt:
        return translation.length_ratio_from_cjk
    return translation.length_ratio


@dataclass(frozen=True)
class Field:
    """One field of an article and its translation; `html` fields also have their tags compared."""

    name: str
    source: str
    target: str
    html: bool = False


def _text(value: str, html: bool) -> str:
    return _SPACE.sub(" ", _TAGS.sub(" ", value) if html else value).strip()


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


class _TagWalker(HTMLParser):
    """Records the element structure of an HTML fragment and whether its tags are balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[str] = []
        self.stack: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f"unexpected </{tag}>"
            if tag in self.stack:  # close what was left open, like a browser would
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def html_problem(source: str, target: str) -> str:
    """Why the translated HTML's structure differs from the source's ('' when it matches)."""
    walked = []
    for text in (source, target):
        walker = _TagWalker()
        walker.feed(text)
        walker.close()
        walked.append(walker)
    src, tgt = walked
    if tgt.problem:
        return f"broken HTML: {tgt.problem}"
    if tgt.stack and not src.stack:
        return f"broken HTML: <{tgt.stack[-1]}> is never closed"
    if src.starts != tgt.starts:
        lost = sorted(set(src.starts) - set(tgt.starts))
        added = sorted(set(tgt.starts) - set(src.starts))
        detail = (
            f"lost {', '.join(f'<{t}>' for t in lost)}" if lost else
            f"added {', '.join(f'<{t}>' for t in added)}" if added else
            f"{len(src.starts)} element(s) became {len(tgt.starts)}"
        )  # fmt: skip
        return f"HTML structure changed: {detail}"
    return ""


def field_problem(f: Field, source_lang: str, target_lang: str, translation: TranslationConfig) -> str:
    """Why one translated field must not be published ('' when it passes every gate)."""
    src, tgt = _text(f.source, f.html), _text(f.target, f.html)
    if not _letters(src):
        return ""  # numbers and punctuation only: nothing was for the model to do
    if not tgt:
        return f"{f.name}: the translation is empty"
    if tgt.casefold() == src.casefold() and len(_PLAIN_WORD.findall(src)) >= MIN_WORDS_FOR_UNCHANGED:
        return f"{f.name}: the translation is the untranslated source text"
    if _letters(src) >= MIN_LETTERS_FOR_RATIO:
        low, high = length_bounds(translation, source_lang, target_lang)
        ratio = len(tgt) / len(src)
        if not low <= ratio <= high:
            return f"{f.name}: length ratio {ratio:.2f} is outside [{low:g}, {high:g}]"
    if f.html:
        problem = html_problem(f.source, f.target)
        if problem:
            return f"{f.name}: {problem}"
    return ""


def check(fields: Sequence[Field], source_lang: str, target_lang: str, translation: TranslationConfig) -> str:
    """Every reason the translated fields of one article must not be published, joined ('' if none)."""
    return "; ".join(p for f in fields if (p := field_problem(f, source_lang, target_lang, translation)))


def ordinary_words(text: str) -> int:
    """Lower-case words of three letters or more: what a translation must change."""
    return len(_PLAIN_WORD.findall(text))


def copied(source: str, output: str) -> bool:
    """Whether an output is its source sentence again (case and spacing aside)."""
    return _SPACE.sub(" ", output).strip().casefold() == _SPACE.sub(" ", source).strip().casefold()


def loops(text: str) -> bool:
    """Whether text repeats a phrase of 1 to LOOP_PHRASE words (three letters or more) LOOP_REPEATS times
    in a row: "la ville la ville la ville la ville"."""
    words = [w.casefold() for w in _WORD.findall(text)]
    for size in range(1, LOOP_PHRASE + 1):
        run = 0
        for i in range(size, len(words)):
            run = run + 1 if words[i] == words[i - size] else 0
            if run >= size * (LOOP_REPEATS - 1) and sum(len(w) for w in words[i - size + 1 : i + 1]) >= 3:
                return True
    return False


def signal_problem(signals: Signals, engine: str, max_unknown: float) -> str:
    """Why the engine's own signals say the translation must not be published ('' when they do not)."""
    problems = []
    ratio = signals.unknown_ratio
    if ratio is not None and ratio > max_unknown and signals.unknown >= MIN_UNKNOWN_WORDS:
        problems.append(
            f"{engine}: {ratio:.0%} of the words are marked unknown or untranslatable "
            f"({signals.unknown} of {signals.words}; at most {max_unknown:.0%})"
        )
    if (
        signals.sentences
        and signals.copied > MAX_COPIED_SHARE * signals.sentences
        and signals.copied >= min(MIN_COPIED_SENTENCES, signals.sentences)
    ):
        problems.append(
            f"{engine}: {signals.copied} of {signals.sentences} sentence(s) came back untranslated"
        )
    if signals.looping:
        problems.append(f"{engine}: {signals.looping} sentence(s) repeat a phrase in a loop")
    return "; ".join(problems)


def depends_on(
    pair: PairTranslator,
    glossary: Sequence[tuple[str, str]],
    names: bool,
    translation: TranslationConfig,
    source: str,
    target: str,
) -> str:
    """Fingerprint of everything a refusal of source → target depends on besides the article: the engine and
    its model(s), the glossary's terms for the target, name protection and the gate's bounds. The same
    fingerprint gives the same output and the same verdict, so a refusal is retried only when it changes."""
    parts = [pair.engine, pair.model_id, pair.pivot, str(names), repr(length_bounds(translation, source, target)),
             repr(translation.max_unknown_for(target)), str(MIN_UNKNOWN_WORDS), str(MIN_COPIED_SENTENCES),
             *(f"{term}={rendering}" for term, rendering in glossary)]  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def backoff(base: timedelta) -> Callable[[int], timedelta]:
    """Delay before retry number `attempts`: base, 2×base, 4×base…, at most a day."""

    def delay(attempts: int) -> timedelta:
        return min(base * (2 ** max(0, min(attempts - 1, 20))), MAX_BACKOFF)

    return delay
