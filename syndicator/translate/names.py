"""Names beyond the glossary: people, organisations and acronyms an engine must not translate word by word.

Apertium alone turns "Ms. Grace Long" into "Señora Gracia Mucho tiempo". Found here in English text, and kept
as written (like glossary terms) while the words around them are translated:

- a name after an honorific or a title: "Ms. Grace Long", "Dr. Ana de la Cruz", "Mayor Ana Ruiz" — the name
  only: the honorific is translated ("Señora Grace Long");
- acronyms: "OHA", "(HCWO)", "G7" (not three all-caps words in a row: that is shouting, not names);
- capitalised multi-word sequences in the middle of a sentence: "the Ocean Harbour Authority", "Bank of
  Lisbon" (at a sentence start a capital says nothing);
- and, anywhere in the same article, a name found so ("Grace Long said…" opening a sentence) and a person's
  surname ("Long added that…").

A heuristic: it also freezes Title Case phrases that are not names ("the Harbour Lights Festival" stays
English). bench/fidelity.py measures what it keeps and what it wrongly freezes; the glossary overrides it
(its terms are matched first and may carry a translation), and `translation.protect_names = false` turns it
off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
# Abbreviated honorifics (with or without the period) and titles written before a name. They stay outside
# the protected span, so the engine translates them.
_HONORIFICS = (
    "Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Lord|Lady|Rev|Fr|Sgt|Capt|Col|Gen|Lt|Maj|Gov|Sen|Rep|Hon|Insp|Supt|"
    "Judge|Justice|Mayor|President|Minister|Councillor|Councilor|Chancellor|Director|Professor|Doctor|"
    "Inspector|Commissioner|Ambassador|Senator|Governor|Secretary|Premier|King|Queen|Prince|Princess|"
    "Bishop|Archbishop|Father|Sister|Captain|General|Chair|Chairman|Chairwoman|Chairperson|Dean"
)
# Never the first word of a name: calendar words are dates, not names ("Mr. Long Monday").
_CALENDAR = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    "August|September|October|November|December"
)
_WORD = rf"(?!(?:{_CALENDAR})\b)[{_UPPER}][\w’'-]*(?<![’'-])"
_INITIAL = rf"[{_UPPER}]\."
# Lower-case words inside a name: "Ana de la Cruz", "Bank of Lisbon", "Ministry for the Environment".
_PARTICLE = r"(?:of|for|the|de|del|della|der|den|da|das|do|dos|du|la|le|van|von|bin|al|y|&)"
_PARTICLE_WORD = re.compile(_PARTICLE)
_S = r"[^\S\n]+"  # spaces within a line: a name never runs across a line break (a heading, a paragraph)
_NAME = rf"(?:{_INITIAL}[^\S\n]*)*{_WORD}(?:{_S}(?:{_PARTICLE}{_S})*{_WORD})*"
_AFTER_HONORIFIC = re.compile(rf"\b(?:{_HONORIFICS})\b\.?{_S}(?P<name>{_NAME})")
# Two or more capitalised words (particles between them).
_SEQUENCE = re.compile(rf"\b{_WORD}(?:{_S}(?:{_PARTICLE}{_S})*{_WORD})+")
# One capitalised word: a run's words are looked up in the article's known names.
_CAPITALISED = re.compile(rf"\b{_WORD}(?:{_S}{_WORD})*")
# A capital and more capitals or digits ("OHA", "G7"; in "COVID-19" the "19" is a number).
_ACRONYM = re.compile(rf"\b[{_UPPER}][{_UPPER}\d]+\b")
_SHOUTING = 3  # this many all-caps words in a row are emphasis, not acronyms
_SENTENCE_END = re.compile(r"(?:^|[.!?:;]|[.!?:;][\"'”’)\]]|\n)\s*[\"'“‘(\[]*\s*$")
_TITLE_WORDS = frozenset(_HONORIFICS.split("|"))
# Capitalised only because they open a sentence: "The Ocean Harbour Authority said…" names the rest.
_OPENERS = frozenset(
    [
        "The",
        "A",
        "An",
        "This",
        "That",
        "These",
        "Those",
        "Our",
        "Its",
        "Their",
        "His",
        "Her",
        "In",
        "On",
        "At",
        "For",
        "By",
        "From",
        "With",
        "After",
        "Before",
        "When",
        "While",
        "As",
        "If",
        "But",
        "And",
        "Yesterday",
        "Today",
        "Tomorrow",
        "Last",
        "Next",
        "Both",
        "All",
        "Every",
        "New",
    ]
)


def _mid_sentence(text: str, start: int) -> bool:
    # The few characters before a word tell whether a sentence starts there (a whole prefix would be quadratic).
    return start > 0 and not _SENTENCE_END.search(text[max(0, start - 6) : start])


def _sequence_name(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """Where the name is in a capitalised sequence, or None when a capital may only open a sentence.

    "Prime Minister Ana Ruiz" → "Ana Ruiz" (titles are translated, the name kept); "The Ocean Harbour
    Authority" opening a sentence → "Ocean Harbour Authority"; "City Libraries Start" opening one → None.
    """
    words = m.group().split()
    start = m.start()
    if not _mid_sentence(text, start):
        if words[0] not in _OPENERS or len(words) < 3:
            return None
        start = text.index(words[1], start + len(words[0]))
        words = words[1:]
    titles = [i for i, w in enumerate(words[:-1]) if w in _TITLE_WORDS]
    if titles:
        cut = titles[-1] + 1
        # "Minister of Health Ines Ferreira": the title's own complement goes with it.
        while cut < len(words) - 1 and _PARTICLE_WORD.fullmatch(words[cut]):
            cut += 2 if not _PARTICLE_WORD.fullmatch(words[cut + 1]) else 1
        if cut >= len(words):
            return None
        start = text.index(words[cut], text.index(words[cut - 1], start) + len(words[cut - 1]))
    return start, m.end()


def known_names(text: str) -> frozenset[str]:
    """Names an article establishes: names after honorifics, their surnames, and mid-sentence sequences.

    Looked up anywhere in the same article, sentence starts included ("Long added…").
    """
    found: set[str] = set()
    for m in _AFTER_HONORIFIC.finditer(text):
        name = m.group("name")
        found.add(name)
        found.add(name.rsplit(None, 1)[-1])  # the surname alone
    for m in _SEQUENCE.finditer(text):
        span = _sequence_name(text, m)
        if span is not None:
            found.add(text[span[0] : span[1]])
    return frozenset(found)


def find_names(text: str, known: Iterable[str] = frozenset()) -> list[tuple[int, int]]:
    """Spans of names in text (sorted, non-overlapping): after honorifics, acronyms, mid-sentence sequences
    and the article's known names."""
    known = known if isinstance(known, frozenset) else frozenset(known)
    # Names after honorifics first: "Minister Ana Ruiz" must not be swallowed by "Prime Minister Ana Ruiz".
    spans = [m.span("name") for m in _AFTER_HONORIFIC.finditer(text)]
    for m in _SEQUENCE.finditer(text):
        span = _sequence_name(text, m)
        if span is not None:
            spans.append(span)
    if known:
        for m in _CAPITALISED.finditer(text):
            spans.extend(_known_within(m.group().split(), m.start(), text, known))
    acronyms = list(_ACRONYM.finditer(text))
    for i, m in enumerate(acronyms):
        if not _shouting(text, acronyms, i):
            spans.append(m.span())
    return _non_overlapping(spans)


def _known_within(words: list[str], start: int, text: str, known: frozenset[str]) -> list[tuple[int, int]]:
    """The longest runs of words inside a capitalised run that are known names."""
    out = []
    i = 0
    positions = []
    pos = start
    for word in words:
        pos = text.index(word, pos)
        positions.append(pos)
        pos += len(word)
    while i < len(words):
        for j in range(len(words), i, -1):
            if " ".join(words[i:j]) in known:
                out.append((positions[i], positions[j - 1] + len(words[j - 1])))
                i = j
                break
        else:
            i += 1
    return out


def _shouting(text: str, acronyms: list[re.Match[str]], i: int) -> bool:
    """Whether acronym i is one of _SHOUTING or more all-caps words in a row."""
    lo = hi = i
    while lo > 0 and not text[acronyms[lo - 1].end() : acronyms[lo].start()].strip(" ,"):
        lo -= 1
    while hi + 1 < len(acronyms) and not text[acronyms[hi].end() : acronyms[hi + 1].start()].strip(" ,"):
        hi += 1
    return hi - lo + 1 >= _SHOUTING


def _non_overlapping(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    # Longest first at each start, then left to right: "Ocean Harbour Authority" wins over "Ocean Harbour".
    taken: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if not taken or start >= taken[-1][1]:
            taken.append((start, end))
        elif end > taken[-1][1] and start == taken[-1][0]:
            taken[-1] = (start, end)
    return taken
