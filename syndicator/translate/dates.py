"""Dates and date ranges in English text, found and rendered in the target locale with Babel (CLDR).

"on Tuesday, March 3, 2026" → es "el martes, 3 de marzo de 2026"; "from May 12 to 14" → es "del 12 al 14 de
mayo", fr "du 12 au 14 mai"; "2026-03-03" → zh "2026年3月3日". A date without a year takes the article's year
(or the next one when only that matches the weekday given) and is rendered without one, as written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_date, format_interval, match_skeleton
from babel.lists import format_list

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]  # fmt: skip
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTH_NUMBER = {m.lower(): i for i, m in enumerate(_MONTHS, 1)}
_MONTH_NUMBER.update({m[:3].lower(): i for i, m in enumerate(_MONTHS, 1)})
_MONTH_NUMBER["sept"] = 9
_WEEKDAY_NUMBER = {w.lower(): i for i, w in enumerate(_WEEKDAYS)}
_WEEKDAY_NUMBER.update({w[:3].lower(): i for i, w in enumerate(_WEEKDAYS)})

_M = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
     r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"  # fmt: skip
_W = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\.?)"
_D = r"(?:[12]?\d|3[01])(?:st|nd|rd|th)?"
_Y = r"(?:1[89]|20|21)\d\d"
_END = r"(?![\w-])"
_TO = r"\s*(?:–|—|-|\bto\b|\buntil\b|\bthrough\b|\btill\b)\s*"

# One alternation; the first branch that matches at a position wins, so longer forms come first. A day-first
# date starts at a word boundary ("2026 March" holds no "26 March") and is not read where its month begins a
# month-first one ("1 March 3, 2026" is "1" and "March 3, 2026").
_DATE = re.compile(
    rf"""(?P<prep>\b(?:[Oo]n|[Ff]rom)\s+)?
    (?:
      (?P<iso>\b(?P<iy>\d{{4}})-(?P<im>\d\d)-(?P<id>\d\d)\b)
    | (?P<mdy>(?:(?P<w1>{_W}),?\s+)?(?P<m1>{_M})\s+(?P<d1>{_D})
        (?:(?:{_TO}|(?P<and1>\s+(?:and|&)\s+))(?:(?P<w2>{_W}),?\s+)?(?:(?P<m2>{_M})\s+)?(?P<d2>{_D}))?
        (?:,?\s+(?P<y1>{_Y}))?{_END})
    | (?P<dmy>(?:(?P<w3>{_W}),?\s+)?(?P<d3>\b{_D})(?:(?:{_TO}|(?P<and2>\s+(?:and|&)\s+))(?P<d4>{_D}))?\s+(?P<m3>{_M})
        (?!\s+{_D}\b)(?:,?\s+(?P<y2>{_Y}))?{_END})
    )""",
    re.VERBOSE,
)

# "on <date>" and "from <a> to <b>" per language; CLDR has the dates but not these phrases. A language not
# listed here has the preposition left to the engine (which may leave it in English: eng-hbs wrote
# "on 3. ožujka 2026" before Croatian was listed), and from-ranges become CLDR's interval form.
_ON = {"es": "el {}", "ca": "el {}", "gl": "o {}", "fr": "le {}", "it": "il {}", "pt": "em {}", "de": "am {}",
       "nl": "op {}", "eo": "la {}", "ru": "{}", "uk": "{}", "pl": "{}", "hr": "{}", "bs": "{}", "sr": "{}",
       "zh": "{}", "ja": "{}", "ko": "{}"}  # fmt: skip
_ON_BOTH = {"fr": "les {}"}  # "on March 3 and 4"
_ON_WEEKDAY = {"hr": "u {}", "bs": "u {}", "sr": "u {}"}  # "on Tuesday, March 3": "u utorak, 3. ožujka"
_FROM_TO = {"es": "del {} al {}", "ca": "del {} al {}", "gl": "do {} ao {}", "fr": "du {} au {}",
            "it": "dal {} al {}", "pt": "de {} a {}", "de": "vom {} bis {}", "nl": "van {} tot {}",
            "eo": "de la {} ĝis la {}", "ru": "с {} по {}", "uk": "з {} по {}", "pl": "od {} do {}",
            "hr": "od {} do {}", "bs": "od {} do {}", "sr": "od {} do {}", "ar": "من {} إلى {}"}  # fmt: skip
_INTERVAL_ONLY = {"zh", "ja", "ko"}  # "from" reads naturally as CLDR's interval form
# Where CLDR's own patterns are wrong for news text. Esperanto: CLDR writes "3 Marto 2026"; Esperanto writes
# ordinal days and lower-case months ("3-a de marto 2026"; "on" is the accusative: "la 3-an de marto").
_PATTERNS = {
    "eo": {"yMMMMd": "d-'a' 'de' MMMM y", "MMMMd": "d-'a' 'de' MMMM", "d": "d-'a'",
           "yMMMMEEEEd": "EEEE, 'la' d-'a' 'de' MMMM y", "MMMMEEEEd": "EEEE, 'la' d-'a' 'de' MMMM"},
}  # fmt: skip
_LOWER = {"eo"}  # month and weekday names are not capitalized


@dataclass(frozen=True)
class FoundDate:
    """A date or range found in text: where, what, and what was written (year, weekday, preposition)."""

    start: int
    end: int
    first: date
    last: date | None
    has_year: bool
    weekday: bool
    prep: str  # "", "on" or "from"
    both: bool  # "March 3 and 4": two dates, not a range
    text: str


def find_dates(text: str, year: int, language: str) -> list[FoundDate]:
    """Dates in English text; a preposition is included only when `render` can phrase it in `language`."""
    base = language.split("-")[0]
    found = []
    for m in _DATE.finditer(text):
        parsed = _parse(m, year)
        if parsed is None:
            continue
        first, last, has_year, weekday = parsed
        both = bool(m.group("and1") or m.group("and2"))
        prep = (m.group("prep") or "").strip().lower()
        keep_prep = (prep == "on" and (last is None or both) and base in _ON) or (
            prep == "from" and last is not None and (base in _FROM_TO or base in _INTERVAL_ONLY)
        )
        start = m.start() if keep_prep else m.start(m.lastgroup or 0)
        prep = prep if keep_prep else ""
        found.append(
            FoundDate(start, m.end(), first, last, has_year, weekday, prep, both, text[start : m.end()])
        )
    return found


def _parse(m: re.Match[str], year: int) -> tuple[date, date | None, bool, bool] | None:
    g = m.groupdict()
    try:
        if g["iso"]:
            return date(int(g["iy"]), int(g["im"]), int(g["id"])), None, True, False
        if g["mdy"]:
            m1, d1, m2, d2, y, w1, w2 = g["m1"], g["d1"], g["m2"], g["d2"], g["y1"], g["w1"], g["w2"]
        else:
            m1, d1, m2, d2, y, w1, w2 = g["m3"], g["d3"], g["m3"], g["d4"], g["y2"], g["w3"], None
        weekdays = [_WEEKDAY_NUMBER[w.rstrip(".").lower()] if w else None for w in (w1, w2)]
        for candidate in [int(y)] if y else [year, year + 1]:
            first = date(candidate, _month(m1), _day(d1))
            last = date(candidate, _month(m2 or m1), _day(d2)) if d2 else None
            if weekdays[0] not in (None, first.weekday()):
                continue
            if last is not None and (last <= first or weekdays[1] not in (None, last.weekday())):
                continue
            return first, last, bool(y), weekdays[0] is not None
    except ValueError:  # "February 30": not a date, leave it to the model
        return None
    return None


def _month(name: str) -> int:
    return _MONTH_NUMBER[name.rstrip(".").lower()]


def _day(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def render(found: FoundDate, language: str) -> str:
    """The date or range as written in `language` (CLDR patterns, full weekday and month names)."""
    locale = _locale(language)
    base = locale.language
    text = _render(found, locale, base)
    return text.lower() if base in _LOWER else text


def _render(found: FoundDate, locale: Locale, base: str) -> str:
    year = "y" if found.has_year else ""

    def fmt(day: date, skeleton: str) -> str:
        return format_date(day, _pattern(skeleton, locale), locale=locale)

    if found.last is None:
        text = fmt(found.first, f"{year}MMMM{'EEEE' if found.weekday else ''}d")
        if found.prep != "on":
            return text
        if base == "eo":  # the accusative of time: "la 3-an de marto", "mardon, la 3-an de marto"
            text = text.replace("-a ", "-an ", 1)
            head, comma, rest = text.partition(",")
            return f"{head}n{comma}{rest}" if found.weekday else f"la {text}"
        phrase = _ON_WEEKDAY.get(base, _ON[base]) if found.weekday else _ON[base]
        return phrase.format(text)
    first, last = found.first, found.last
    same_month = (first.year, first.month) == (last.year, last.month)
    if found.both:
        same_month = same_month and base not in _INTERVAL_ONLY
        skeleton = "d" if same_month else f"{year}MMMMd" if base in _INTERVAL_ONLY else "MMMMd"
        text = format_list([fmt(first, skeleton), fmt(last, f"{year}MMMMd")], locale=locale)
        return _ON_BOTH.get(base, _ON[base]).format(text) if found.prep == "on" else text
    if found.prep == "from" and base in _FROM_TO:
        return _FROM_TO[base].format(fmt(first, "d" if same_month else "MMMMd"), fmt(last, f"{year}MMMMd"))
    if base not in _PATTERNS:
        text = format_interval(first, last, f"{year}MMMMd", locale=locale)
        # CLDR has no wide-month interval for some locales and abbreviates ("12. – 14. svi 2026."):
        # only its own form with the month written out is taken.
        if base in _INTERVAL_ONLY or format_date(last, "MMMM", locale=locale) in text:
            return text
    if same_month:
        return f"{fmt(first, 'd')}–{fmt(last, f'{year}MMMMd')}"
    return f"{fmt(first, 'MMMMd')} – {fmt(last, f'{year}MMMMd')}"


@functools.lru_cache(maxsize=256)
def _locale(language: str) -> Locale:
    return Locale.parse(language.replace("-", "_"))


@functools.lru_cache(maxsize=1024)
def _pattern(skeleton: str, locale: Locale) -> str:
    """The locale's pattern for a skeleton, with weekdays written out in full (cached: matching is slow)."""
    own = _PATTERNS.get(locale.language, {})
    if skeleton in own:
        return own[skeleton]
    key = match_skeleton(skeleton, locale.datetime_skeletons) or skeleton
    pattern = locale.datetime_skeletons[key].pattern if key in locale.datetime_skeletons else key
    if "EEEE" not in skeleton:
        return pattern
    # CLDR's skeletons carry short weekdays; widen E/c runs outside quoted literals.
    parts = re.split(r"('[^']*')", pattern)
    return "".join(p if p.startswith("'") else re.sub(r"[Ec]+", "EEEE", p) for p in parts)
