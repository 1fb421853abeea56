"""Headlines: English Title Case to sentence case before translation, and a capital first letter after.

Models are trained on running text: "City Libraries Start A Reading Programme" reads to them as a string of
names. A word is lowercased only when the engine's own dictionary knows it as an ordinary lower-case word
(Apertium's English analyser knows "library" but not "lisbon"; an Argos model's SentencePiece vocabulary
spells "london" in more pieces than "London") and the article's own text does not capitalize it in the middle
of a sentence. Kept as they are: the first word, acronyms, glossary terms. An engine without a dictionary
(the pseudo engine) falls back to the article's text alone.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable

_SMALL = {"a", "an", "the", "and", "but", "or", "nor", "for", "so", "yet", "as", "at", "by", "in", "of", "off",
          "on", "per", "to", "up", "via", "with", "from", "into", "onto", "over", "than", "vs"}  # fmt: skip
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_OPENING = set(" \"'“‘«¿¡(„")
_SENTENCE_END = re.compile(r"[.!?:]\s*[\"'“”‘’()]*\s*$")


def is_title_case(title: str) -> bool:
    """True when (nearly) every major word starts with a capital, as in "City Libraries Start a Programme"."""
    major = [w for w in _WORD.findall(title) if w.lower() not in _SMALL]
    if len(major) < 3:
        return False
    capitalized = sum(1 for w in major if w[0].isupper())
    return capitalized == len(major)


def proper_nouns(text: str) -> set[str]:
    """Words written with a capital in the middle of a sentence: names, places, organizations."""
    names = set()
    for m in _WORD.finditer(text):
        word = m.group()
        # Only the few characters before the word matter (and scanning the whole prefix would be quadratic).
        before = text[max(0, m.start() - 8) : m.start()]
        if word[0].isupper() and m.start() > 0 and not _SENTENCE_END.search(before):
            names.add(word)
    return names


def title_words(title: str) -> set[str]:
    """The lower-cased words sentence_case may lowercase in a Title Case title (none in other titles)."""
    if not is_title_case(title):
        return set()
    return {w.lower() for w in _WORD.findall(title)[1:] if not (len(w) > 1 and w.isupper())}


def sentence_case(
    title: str,
    keep_words: Iterable[str] = (),
    keep_phrases: Iterable[str] = (),
    common: Container[str] | None = None,
) -> str:
    """Title Case → sentence case, keeping acronyms, the given words and phrases, and words that are not
    `common` lower-case words (when the engine's dictionary says which are); other titles unchanged."""
    if not is_title_case(title):
        return title
    keep = set(keep_words)
    protected: list[tuple[int, int]] = []
    for phrase in keep_phrases:
        for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", title):
            protected.append((m.start(), m.end()))

    def lower(m: re.Match[str]) -> str:
        word = m.group()
        if m.start() == 0 or any(s <= m.start() < e for s, e in protected):
            return word
        if word in keep or (len(word) > 1 and word.isupper()) or any(c.isupper() for c in word[1:]):
            return word  # a name, an acronym (OHA) or a mixed-case name (McDonald)
        if _SENTENCE_END.search(title[: m.start()]):
            return word  # a second sentence or a subtitle after a colon
        if common is not None and word.lower() not in common:
            return word  # not an ordinary word to the engine: a name ("Lisbon")
        return word.lower()

    return _WORD.sub(lower, title)


def capitalize_first(text: str) -> str:
    """Upper-case the first letter where the script has case (Chinese and Arabic are left as they are)."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :] if ch.islower() else text
        if ch not in _OPENING:
            return text  # a digit, or a bracket that is not part of a sentence
    return text
