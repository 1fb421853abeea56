"""Numbers in English text, rewritten in the target locale's own form (Babel, CLDR) only where that is safe.

"2,000 books" left as written is a misprint in Spanish, where the comma marks decimals: a reader sees two
books. A number is re-punctuated for the locale (es "2000", "2.500.000", "3,5"; fr "2 500 000" with its
narrow no-break space) only when the English form says unambiguously what it is:

- grouped by thousands, `1,250` / `2,500,000` / `1,234.5` (a comma then exactly three digits, every group);
- with a currency symbol, `$3`, `€2.50`: a price (CLDR's currency form: es "3 US$", de "2,50 €");
- with a percent sign, `60%`, `3.5%`: es "60 %", tr "%60";
- a decimal, `3.5`, only when the words around it say it is a quantity: a unit or "percent" after it
  ("3.5 km", "2.75 percent") or a leading zero ("0.5"). A bare `7.30`, `1.2` may be a time, a version, a
  section number: left as written.

Everything else stays exactly as written: numbers without separators (years 2026, ids, 4-digit amounts
written "2000"), versions and addresses with several points (`1.2.3`, `10.0.0.1`), times (`7.30 p.m.`),
phone numbers, and any comma not followed by exactly three digits (`1,5` is not English).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, format_percent

# What protect.py has always taken as a number: a currency symbol, digits with . or , inside, a percent sign.
NUMBER = re.compile(r"(?<![\w.,])(?P<symbol>[$€£¥])?(?P<number>\d+(?:[.,]\d+)*)(?P<percent>\s?%)?(?!\w)")
# A leading zero ("007", "01,000") makes a code, not a quantity: as written.
_PLAIN = re.compile(r"0|[1-9]\d*")
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL = re.compile(r"(?:0|[1-9]\d*)\.\d+")
# Currency symbols as ISO codes (amounts.py reads them too). "$" is taken for US dollars.
CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
# Words after a decimal that make it a measured quantity, never a time, a version or a section number.
_QUANTITY = re.compile(
    r"\s?(?:percent|per\s+cent|percentage\s+points?|points?|times|"
    r"(?:kilo|centi|milli)?(?:met(?:re|er)s?|grams?|lit(?:re|er)s?)|km|cm|mm|m|kg|g|mg|l|ml|"
    r"km/h|mph|miles?|feet|foot|ft|inch(?:es)?|yards?|tonnes?|tons?|hectares?|ha|acres?|"
    r"degrees?|°[CF]?|hours?|minutes?|seconds?|days?|weeks?|months?|years?|"
    r"dollars?|euros?|pounds?|yen|cents?)\b",
    re.IGNORECASE,
)
# A clock time is never a decimal: "at 7.30 hours", "7.30 p.m.".
_CLOCK_BEFORE = re.compile(r"\b(?:at|from|until|till|by|before|after)\s+$", re.IGNORECASE)
# CLDR's minimumGroupingDigits = 2 (no separator in a 4-digit number: es "2000" but "25.000"). Babel does not
# read that field; this is the list ICU 78 applies (Intl.NumberFormat(l).format(2000), node 78.2).
_MIN_GROUPING_TWO = frozenset({"bg", "es", "es_ES", "et", "hu", "it", "lv", "pl", "pt_PT", "sl"})


@dataclass(frozen=True)
class FoundNumber:
    """A number in text: where, as written, and its value when its English form is unambiguous."""

    start: int
    end: int
    text: str
    value: Decimal | None  # None: leave as written
    decimals: int = 0
    currency: str = ""
    percent: bool = False


def find_numbers(text: str) -> list[FoundNumber]:
    """Every number protect.py takes as one; `value` set only where re-punctuating it is safe."""
    return [_read(text, m) for m in NUMBER.finditer(text)]


def _read(text: str, m: re.Match[str]) -> FoundNumber:
    written, symbol, percent = m.group("number"), m.group("symbol"), bool(m.group("percent"))
    found = FoundNumber(m.start(), m.end(), m.group(), None)
    plain = _PLAIN.fullmatch(written) is not None
    grouped = _GROUPED.fullmatch(written) is not None
    decimal = _DECIMAL.fullmatch(written) is not None
    if not (plain or grouped or decimal):
        return found  # "1.2.3", "1,5", "10.0.0.1": not an English quantity
    if decimal and not (symbol or percent or written.startswith("0.")):
        after = text[m.end() :]
        clock = _CLOCK_BEFORE.search(text[max(0, m.start() - 8) : m.start()])
        if clock or not _QUANTITY.match(after):
            return found  # "7.30", "version 1.2", "at 7.30 hours": left as written
    if plain and not (symbol or percent):
        return found  # "2026", "2000", ids: exactly as written
    number = written.replace(",", "")
    decimals = len(number.partition(".")[2])
    currency = CURRENCY_SYMBOLS.get(symbol or "", "")
    return FoundNumber(m.start(), m.end(), m.group(), Decimal(number), decimals, currency, percent)


def render_number(found: FoundNumber, language: str) -> str:
    """The number as `language` writes it (CLDR), or as written when its English form is ambiguous."""
    if found.value is None:
        return found.text
    locale = cldr_locale(language)
    # "1,250" in Spanish is "1250": CLDR's minimum grouping, which Babel does not apply by itself.
    group = not (str(locale) in _MIN_GROUPING_TWO and abs(found.value) < 10000)
    if found.currency:
        return format_currency(
            found.value, found.currency, locale=locale, currency_digits=False,
            format=_with_decimals(locale.currency_formats["standard"].pattern, found.decimals),
            group_separator=group,
        )  # fmt: skip
    if found.percent:
        pattern = _with_decimals(locale.percent_formats[None].pattern, found.decimals)
        return format_percent(found.value / 100, format=pattern, locale=locale, group_separator=group)
    pattern = _with_decimals(locale.decimal_formats[None].pattern, found.decimals)
    return format_decimal(found.value, format=pattern, locale=locale, group_separator=group)


def _with_decimals(pattern: str, decimals: int) -> str:
    """A CLDR pattern with exactly `decimals` fraction digits: "$3" stays 3, not 3.00; "3.50" keeps its 0."""
    fraction = f".{'0' * decimals}" if decimals else ""
    return re.sub(r"#,##0(?:\.0+|\.#+)?", lambda _: f"#,##0{fraction}", pattern.split(";")[0], count=1)


@functools.lru_cache(maxsize=256)
def cldr_locale(language: str) -> Locale:
    """Babel's locale for a language code ("pt-BR" too); English for a code CLDR does not know."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")
