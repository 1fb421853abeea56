"""Language codes: Babel's view of which codes exist, and close matches for typos."""

from __future__ import annotations

import difflib
import functools
import re

from babel import Locale, UnknownLocaleError
from babel.core import get_global, parse_locale
from babel.languages import get_official_languages
from babel.localedata import locale_identifiers


def primary_language(code: str) -> str:
    """The language subtag alone, lower case: "pt-BR", "pt_BR" and "PT" → "pt" (what per-language tables of
    phrases, scripts and rules are keyed by)."""
    return re.split(r"[-_]", code, maxsplit=1)[0].lower()


@functools.lru_cache(maxsize=256)
def language_id(code: str) -> str:
    """Babel's canonical id, to compare 'pt-BR' with 'pt_BR'; the code itself when Babel rejects it."""
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return code


@functools.lru_cache(maxsize=256)
def bcp47(code: str) -> str:
    """The BCP 47 spelling of a code Babel knows: "fr_FR" → "fr-FR", "zh_hant" → "zh-Hant", "iw" → "he"
    (xml:lang, hreflang and JSON Feed's language are BCP 47; Babel and gettext take underscores). Only the
    subtags the code has: Babel's alias table would also add a region ("iw" → "he_IL")."""
    try:
        given = parse_locale(code.replace("-", "_"))
        loc = Locale.parse(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    territory, script, variant = given[1:4]
    parts = (loc.language, loc.script if script else None, loc.territory if territory else None, variant)
    return "-".join(part for part in parts if part)


@functools.lru_cache(maxsize=256)
def language_key(code: str) -> str:
    """What makes two codes one language: CLDR's likely subtags filled in, so "fr" and "fr-FR" (French as
    written in France is French's default) are one, while "pt-PT" and "pt" (Brazilian) stay two."""
    try:
        loc = Locale.parse(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    likely = get_global("likely_subtags")
    probes = [f"{loc.language}_{loc.script}" if loc.script else "",
              f"{loc.language}_{loc.territory}" if loc.territory else "", loc.language]  # fmt: skip
    # Parsed, not looked up: CLDR names likely locales Babel has no data for ("no" → "no_Latn_NO").
    full = next((parse_locale(likely[p]) for p in probes if p in likely), ("", None, None, None))
    territory, script = full[1], full[2]
    parts = (loc.language, loc.script or script, loc.territory or territory, loc.variant)
    return "_".join(part for part in parts if part)


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
    every_name = {name.lower(): ident for ident, name in english.languages.items()}
    # Only codes that would then be accepted: Babel names languages it has no locale data for ("Klingon").
    names = {name: ident for name, ident in every_name.items() if is_language(ident)}
    lowered = code.strip().lower()
    if lowered in names:  # "Chinese" -> zh
        return f"use the code: {names[lowered].replace('_', sep)!r}"
    if lowered in every_name or lowered.replace("_", "-") in {i.lower() for i in every_name.values()}:
        ident = every_name.get(lowered, lowered)
        return (
            f"{english.languages.get(ident, ident)} ({ident!r}) has no locale data in Babel (CLDR), so its dates, "
            "titles and notices cannot be localized: it cannot be one of the languages"
        )
    if len(lowered) == 2 and (official := get_official_languages(lowered.upper())):  # "cn", "jp"
        return f"{code!r} is a country code; did you mean {official[0]!r}?"
    suggestions: list[str] = []
    if len(lowered) > 3:  # looks like a name: "Frnch" -> fr
        suggestions += [names[n] for n in difflib.get_close_matches(lowered, names, n=1)]
    head = re.split(r"[-_]", lowered)[0]
    if head != lowered and is_language(head):
        suggestions.append(head)  # "ar-XX" -> "ar"
    known = {ident.lower(): ident for ident in locale_identifiers()}
    close = difflib.get_close_matches(lowered.replace("-", "_"), known, n=3)
    suggestions += [known[k].replace("_", sep) for k in close]
    fallback = "use an ISO 639 code such as 'en', 'fr' or 'pt-BR'"
    return did_you_mean(list(dict.fromkeys(suggestions))[:3]) or fallback


def did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    if len(options) == 1:
        return f"did you mean {options[0]!r}?"
    return "did you mean one of: " + ", ".join(repr(o) for o in options) + "?"
