"""Localization: gettext catalogs from locales/, Babel dates and language names, text direction."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

DOMAIN = "syndicator"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here."""
    return message


@lru_cache(maxsize=256)
def locale(code: str) -> Locale:
    """The Babel locale for a language code ("zh", "pt-BR"); falls back to English if Babel lacks it."""
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def native_name(code: str, *, heading: bool = True) -> str:
    """The language's name in itself: "Français" as a heading, "français" inside a sentence."""
    name = locale(code).get_display_name(locale(code)) or code
    return name[:1].upper() + name[1:] if heading else name


def english_name(code: str) -> str:
    """The language's name in English."""
    return locale(code).get_display_name("en") or code


def direction(code: str) -> str:
    """'rtl' for right-to-left scripts (Arabic, Hebrew, Persian, Urdu…), else 'ltr'."""
    return "rtl" if locale(code).character_order == "right-to-left" else "ltr"


def display_date(moment: datetime, code: str, timezone: ZoneInfo) -> str:
    """A date for people: "27 juillet 2025", "2025年7月27日", in the site's time zone."""
    return format_date(moment.astimezone(timezone), format="long", locale=locale(code))


class Catalogs:
    """gettext catalogs read from locales/<lang>/LC_MESSAGES/syndicator.po (no compile step needed)."""

    def __init__(self, locales_dir: Path) -> None:
        self.locales_dir = locales_dir
        self._catalogs: dict[str, Catalog | None] = {}
        self._lock = threading.Lock()

    def _catalog(self, code: str) -> Catalog | None:
        with self._lock:
            if code not in self._catalogs:
                self._catalogs[code] = self._load(code)
            return self._catalogs[code]

    def _load(self, code: str) -> Catalog | None:
        candidates = [code, code.replace("-", "_"), code.split("-")[0].split("_")[0]]
        for name in dict.fromkeys(candidates):
            path = self.locales_dir / name / "LC_MESSAGES" / f"{DOMAIN}.po"
            if path.is_file():
                try:
                    with path.open("rb") as fh:
                        return read_po(fh, locale=name.replace("-", "_"))
                except Exception as exc:  # a broken catalog must not stop publishing: fall back to English
                    log.error("%s: cannot read catalog (%s); using English text", path, exc)
                    return None
        log.info("no catalog for %s in %s; using English text", code, self.locales_dir)
        return None

    def has(self, code: str, message: str) -> bool:
        """Whether the catalog for `code` translates `message`."""
        catalog = self._catalog(code)
        entry = catalog.get(message) if catalog is not None else None
        return bool(entry is not None and entry.string and not entry.fuzzy)

    def gettext(self, code: str, message: str, **params: str) -> str:
        """The message in language `code` (English if untranslated), with %(name)s filled in."""
        catalog = self._catalog(code)
        text = message
        if catalog is not None:
            entry = catalog.get(message)
            if entry is not None and entry.string and not entry.fuzzy and isinstance(entry.string, str):
                text = entry.string
        return text % params if params else text
