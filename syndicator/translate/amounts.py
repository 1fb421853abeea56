"""Large amounts in English text ("$3.5 billion", "2 million euros"), rendered per locale with Babel (CLDR).

"Billion" is 10⁹ in English and 10¹² in the long-scale languages (Spanish "billón", Catalan "bilió", French
"billion"): an engine that translates the word makes the amount a thousand times too large. CLDR's compact
forms say it right in every locale: es "3,5 mil millones", ca "3,5 milers de milions", de "3,5 Milliarden";
with a currency, CLDR's short currency form: es "3500 M US$", de "3,5 Mrd. $".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_compact_currency, format_compact_decimal

from syndicator.translate.numbers import CURRENCY_SYMBOLS, cldr_locale

_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_WORDS = {"dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP",
          "yen": "JPY", "usd": "USD", "eur": "EUR", "gbp": "GBP"}  # fmt: skip
_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<symbol>US\$|[$€£¥])?\s?(?P<number>\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?)\s+"
    r"(?P<scale>thousand|million|billion|trillion)\b"
    r"(?:\s+(?P<word>dollars?|euros?|pounds?(?!\s+of\b)|yen|USD|EUR|GBP)\b)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundAmount:
    """An amount found in text: where, its value, its currency (ISO code or "") and decimals written."""

    start: int
    end: int
    value: Decimal
    currency: str
    decimals: int


def find_amounts(text: str) -> list[FoundAmount]:
    """Amounts with a scale word, e.g. "$3.5 billion", "2 million euros", "1.2 trillion"."""
    found = []
    for m in _AMOUNT.finditer(text):
        number = m.group("number").replace(",", "")
        value = Decimal(number) * _SCALES[m.group("scale").lower()]
        symbol, word = m.group("symbol"), m.group("word")
        currency = CURRENCY_SYMBOLS.get(symbol or "", "") or _WORDS.get((word or "").lower(), "")
        decimals = len(number.partition(".")[2])
        found.append(FoundAmount(m.start(), m.end(), value, currency, decimals))
    return found


def render_amount(amount: FoundAmount, language: str) -> str:
    """The amount as `language` writes it (CLDR compact long form; short form with a currency)."""
    locale = cldr_locale(language)
    if amount.currency:
        return format_compact_currency(
            amount.value, amount.currency, locale=locale, fraction_digits=amount.decimals
        )
    return format_compact_decimal(
        amount.value, format_type="long", locale=locale, fraction_digits=amount.decimals
    )
