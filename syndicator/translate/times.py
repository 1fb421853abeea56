"""Clock times in English text ("7 p.m.", "at 10:30 a.m.", "9–11 a.m."), rendered in the target locale (CLDR).

Left to the engine, a time stays English ("en 7 p.m." in Spanish and Galician), and apertium-en-eo reads the
period of "p.m." as a sentence end and capitalises the next word ("ĉe 7 p.M. Kun koncerto"). Protected, it
comes back in the locale's own short time form (es "19:00", ar "7:00 م"), and "at" with it where the phrase
is known ("a las 19:00", "à 19:00"). Only a time with a.m./p.m. is taken: "7.30" or "19:00" alone may be
anything and stays as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from babel.dates import format_time

from syndicator.translate.numbers import cldr_locale

_H = r"(?:1[0-2]|0?[1-9])"
_AMPM = r"[ap]\.?\s?m\b\.?"
_TIME = re.compile(
    rf"(?P<prep>\b[Aa]t\s+)?"
    rf"(?:(?P<h0>{_H})(?:[:.](?P<m0>[0-5]\d))?\s*(?P<ampm0>{_AMPM})?\s*(?:–|—|-|\bto\b)\s*)?"
    rf"(?<![\w.,:])(?P<h>{_H})(?:[:.](?P<m>[0-5]\d))?\s*(?P<ampm>{_AMPM})(?!\w)",
    re.IGNORECASE,
)
# After "p.m.": the end of the text, or a new sentence (a capital that is not a weekday or a month).
_SENTENCE_NEXT = re.compile(
    r"\s*$|\s+[\"'“‘(\[]*(?!(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r"[a-z]*\b)[A-Z0-9]"
)
# "at <time>" per language; the singular for one o'clock where the language has one ("a la 1:00").
_AT = {"es": ("a las {}", "a la {}"), "ca": ("a les {}", "a la {}"), "gl": ("ás {}", "á {}"),
       "pt": ("às {}", "à {}"), "it": ("alle {}", "all'{}"), "fr": ("à {}", "à {}"), "de": ("um {}", "um {}"),
       "nl": ("om {}", "om {}"), "eo": ("je {}", "je {}")}  # fmt: skip


@dataclass(frozen=True)
class FoundTime:
    """A time or a range of times found in text."""

    start: int
    end: int
    first: time | None  # a range's start
    last: time
    at: bool  # "at" is part of the span (the language has a phrase for it)


def find_times(text: str, language: str) -> list[FoundTime]:
    """Times with a.m./p.m.; "at" is included only when `render_time` can phrase it in `language`."""
    base = language.split("-")[0].split("_")[0]
    found = []
    for m in _TIME.finditer(text):
        pm = m.group("ampm").lower().startswith("p")
        last = _clock(m.group("h"), m.group("m"), pm)
        first = None
        if m.group("h0"):
            pm0 = m.group("ampm0").lower().startswith("p") if m.group("ampm0") else pm
            first = _clock(m.group("h0"), m.group("m0"), pm0)
        at = bool(m.group("prep")) and first is None and base in _AT
        start = m.start() if at else m.start("h0") if first is not None else m.start("h")
        end = m.end()
        # The period of "p.m." that also ends the sentence stays outside: "a las 19:00." keeps its full stop.
        if text[end - 1] == "." and _SENTENCE_NEXT.match(text, end):
            end -= 1
        found.append(FoundTime(start, end, first, last, at))
    return found


def _clock(hour: str, minute: str | None, pm: bool) -> time:
    h = int(hour) % 12 + (12 if pm else 0)
    return time(h, int(minute or 0))


def render_time(found: FoundTime, language: str) -> str:
    """The time (or range) in the locale's short form, with "at" phrased when it was part of the span."""
    locale = cldr_locale(language)
    text = format_time(found.last, "short", locale=locale)
    if found.first is not None:
        return f"{format_time(found.first, 'short', locale=locale)}–{text}"
    if found.at:
        many, one = _AT[locale.language]
        return (one if found.last.hour == 1 else many).format(text)
    return text
