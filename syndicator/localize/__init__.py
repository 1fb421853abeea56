"""Localization: gettext catalogs from locales/, Babel dates and language names, text direction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from syndicator.config.languages import primary_language

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


def _package_locales() -> Path:
    """The catalogs shipped inside the package (what `syndicator init` copies: scaffold.packaged_locales)."""
    return Path(str(resources.files("syndicator") / "locales"))


class Catalogs:
    """gettext catalogs read from locales/<lang>/LC_MESSAGES/syndicator.po (no compile step needed), layered:
    the instance's own folder first, then the catalogs shipped with the package. An instance made by hand,
    without locales/, still publishes its notices and dates in each feed's language; a message the instance's
    catalog lacks comes from the package's."""

    def __init__(self, locales_dir: Path, fallback: Path | None = None) -> None:
        self.locales_dir = locales_dir
        package = _package_locales() if fallback is None else fallback
        same = _same_folder(locales_dir, package)
        self.layers = [locales_dir] if same else [locales_dir, package]
        self._catalogs: dict[str, list[Catalog]] = {}
        self._lock = threading.Lock()

    def _catalog(self, code: str) -> list[Catalog]:
        with self._lock:
            if code not in self._catalogs:
                self._catalogs[code] = [
                    c for c in (self._load(d, code) for d in self.layers) if c is not None
                ]
                if not self._catalogs[code] and primary_language(code) != "en":
                    log.warning(
                        "no catalog for %s in %s: its feed titles and notices are in English "
                        "(add %s/%s/LC_MESSAGES/%s.po, see locales/README.md)",
                        code, " or ".join(str(d) for d in self.layers), self.locales_dir, code, DOMAIN,
                    )  # fmt: skip
            return self._catalogs[code]

    def files(self, code: str) -> list[Path]:
        """The catalog files that serve `code`, instance first (what a feed's bytes depend on)."""
        found = []
        for folder in self.layers:
            path = _find(folder, code)
            if path is not None:
                found.append(path)
        return found

    def missing(self, codes: Iterable[str]) -> list[str]:
        """Languages (other than English, the messages' own language) that no catalog serves."""
        return [code for code in codes if primary_language(code) != "en" and not self.files(code)]

    @staticmethod
    def _load(folder: Path, code: str) -> Catalog | None:
        path = _find(folder, code)
        if path is None:
            return None
        try:
            with path.open("rb") as fh:
                return read_po(fh, locale=path.parent.parent.name.replace("-", "_"))
        except Exception as exc:  # a broken catalog must not stop publishing: the next layer, or English
            log.error("%s: cannot read catalog (%s); using the next catalog or English text", path, exc)
            return None

    def _entry(self, code: str, message: str) -> str | None:
        for catalog in self._catalog(code):
            entry = catalog.get(message)
            if entry is not None and entry.string and not entry.fuzzy and isinstance(entry.string, str):
                return entry.string
        return None

    def has(self, code: str, message: str) -> bool:
        """Whether a catalog for `code` translates `message`."""
        return self._entry(code, message) is not None

    def gettext(self, code: str, message: str, **params: str) -> str:
        """The message in language `code` (English if untranslated), with %(name)s filled in."""
        text = self._entry(code, message) or message
        return text % params if params else text


def _find(folder: Path, code: str) -> Path | None:
    for name in dict.fromkeys([code, code.replace("-", "_"), primary_language(code)]):
        path = folder / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
    return None


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
