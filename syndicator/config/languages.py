"""Language codes: Babel's view of which codes exist, and close matches for typos."""

from __future__ import annotations

import difflib
import functools
import re

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from babel.localedata import locale_identifiers


@functools.lru_cache(maxsize=256)
def language_id(code: str) -> str:
    """Babel's canonical id, to compare 'pt-BR' with 'pt_BR'; the code itself when Babel rejects it."""
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def is_language(code: str) -> bool:
    """True for codes Babel knows (ISO 639 / BCP 47 such as "en", "zh", "pt-BR", "pt_BR")."""
    # Babel maps "und" and "root" to real locales, which is never what an admin means.
    if code.strip() != code or code.lower() in ("und", "root"):
        return False
    try:
        Locale.parse(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


def language_hint(code: str) -> str:
    sep = "_" if "_" in code else "-"
    english = Locale("en")
    names = {name.lower(): ident for ident, name in english.languages.items()}
    lowered = code.strip().lower()
    if lowered in names:  # "Chinese" -> zh
        return f"use the code: {names[lowered].replace('_', sep)!r}"
    if len(lowered) == 2 and (official := get_official_languages(lowered.upper())):  # "cn", "jp"
        return f"{code!r} is a country code; did you mean {official[0]!r}?"
    suggestions: list[str] = []
    head = re.split(r"[-_]", lowered)[0]
    if head != lowered and is_language(head):
        suggestions.append(head)  # "ar-XX" -> "ar"
    known = {ident.lower(): ident for ident in locale_identifiers()}
    close = difflib.get_close_matches(lowered.replace("-", "_"), known, n=3)
    suggestions += [known[k].replace("_", sep) for k in close]
    if len(lowered) > 3:  # looks like a name: "Frnch" -> fr
        suggestions += [names[n] for n in difflib.get_close_matches(lowered, names, n=1)]
    fallback = "use an ISO 639 code such as 'en', 'fr' or 'pt-BR'"
    return did_you_mean(list(dict.fromkeys(suggestions))[:3]) or fallback


def did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    if len(options) == 1:
        return f"did you mean {options[0]!r}?"
    return "did you mean one of: " + ", ".join(repr(o) for o in options) + "?"
