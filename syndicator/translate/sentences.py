"""Sentence splitting by rule: the one splitter for engines without a model of their own (Apertium, the
pseudo engine, Argos packages that bundle no MiniSBD model).

A boundary is sentence-ending punctuation (. ! ? and the CJK 。！？), optionally closing quotes or brackets,
then white space, unless the next word starts in lower case ("3 p.m. today") or the text before ends with a
known abbreviation ("Ms. Grace Long", "7 p.m. Tuesday"). Scripts without case (Arabic, CJK) split at every such
boundary.
Sentences are the translation memory's unit, so the same text must always split the same way.
"""

from __future__ import annotations

import re

# Where a sentence may end: terminal punctuation, closing quotes or brackets, then the white space between.
_END = re.compile(r"(?<=[.!?。！？])[\"'”’»)\]」』]*(\s+)")
_OPENING = "\"'“‘«([「『¿¡"
# Abbreviations that do not end a sentence even before a capital: titles ("Dr. Long"), clock times ("7 p.m.
# Tuesday"), months ("Jan. 5": a digit after the point would otherwise start a sentence), Latin ("e.g. The")
# and initials ("J. R. Reyes", "the U.S. Army"). "etc." is left out: it often does end a sentence.
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Ms|Mrs|Mx|Dr|Prof|St|Mt|Ft|No|Nos|Gen|Sen|Rep|Gov|Jr|Sr|Capt|Lt|Col|Sgt|Maj|Rev|Hon|Insp|"
    r"Supt|vs|approx|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)|\b[aApP]\.[mM]|\be\.g|\bi\.e|"
    r"(?<![\w.])(?:[A-Z]\.)*[A-Z])\.$"
)


def split_sentences(text: str) -> list[str]:
    """The sentences of text, stripped, empty ones dropped: the same words in the same order as text."""
    pieces, start = [], 0
    for m in _END.finditer(text):
        cut = m.start(1)
        following = text[m.end() :].lstrip(_OPENING)[:1]
        if following.islower() or _ABBREVIATION.search(text[start:cut].rstrip("\"'”’»)]」』")):
            continue
        pieces.append(text[start:cut].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]
