"""Sentence splitting by rule: the one splitter for engines without a model of their own (Apertium, the
pseudo engine, Argos packages that bundle no MiniSBD model).

A boundary is sentence-ending punctuation (. ! ? and the CJK 。！？), optionally closing quotes or brackets,
then white space, unless the next word starts in lower case ("3 p.m. today") or the text before ends with a
known abbreviation ("Ms. Grace Long"). Scripts without case (Arabic, CJK) split at every such boundary.
Sentences are the translation memory's unit, so the same text must always split the same way.
"""

from __future__ import annotations

import re

# Where a sentence may end: terminal punctuation, closing quotes or brackets, then the white space between.
_END = re.compile(r"(?<=[.!?。！？])[\"'”’»)\]」』]*(\s+)")
_OPENING = "\"'“‘«([「『¿¡"
_ABBREVIATION = re.compile(r"\b(?:Mr|Ms|Mrs|Dr|Prof|St|Mt|No|Gen|Sen|Rep|Gov|Jr|Sr|vs|e\.g|i\.e)\.$")


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
