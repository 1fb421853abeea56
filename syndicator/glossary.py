"""The glossary, config/glossary.toml: terms kept as written, or given a fixed translation per language.

Shape (documented in docs/translation.md):

    keep = ["OHA", "Grace Long"]             # kept exactly as written in every language

    [term."Ocean Harbour Authority"]
    fr = "Autorité portuaire de l'Océan"    # fixed translation per language
    keep = true                             # other languages: keep as written (default: the model translates)
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from babel import Locale, UnknownLocaleError

from syndicator.config.tomllines import key_lines  # the same line finder as the main config
from syndicator.errors import ConfigError

GLOSSARY_FILE = Path("config") / "glossary.toml"


@dataclass(frozen=True)
class Term:
    """One glossary term: its fixed translations, and whether other languages keep it as written."""

    text: str
    translations: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False

    def render(self, language: str) -> str | None:
        """The term in a language, or None when the model should translate it there."""
        base = language.split("-")[0]
        for code in (language, base):
            if code in self.translations:
                return self.translations[code]
        return self.text if self.keep else None


@dataclass(frozen=True)
class Glossary:
    """Every term, longest first (so "Ocean Harbour Authority" wins over "Ocean")."""

    terms: tuple[Term, ...] = ()
    file: Path | None = None

    def render(self, text: str, language: str) -> str | None:
        """A whole text that is a term, in a language (its fixed translation, or as written when kept); else None."""
        term = self._by_text.get(text)
        return term.render(language) if term is not None else None

    @cached_property
    def _by_text(self) -> dict[str, Term]:
        return {t.text: t for t in self.terms}

    def for_language(self, language: str) -> list[tuple[str, str]]:
        """(source term, rendering) pairs that apply in one target language, longest first."""
        found = [(t.text, r) for t in self.terms if (r := t.render(language)) is not None]
        return sorted(found, key=lambda tr: -len(tr[0]))


EMPTY = Glossary()


def load_glossary(root: Path) -> Glossary:
    """Read and validate <instance>/config/glossary.toml; a missing file is an empty glossary."""
    file = root / GLOSSARY_FILE
    if not file.is_file():
        return Glossary(file=None)
    try:
        text = file.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not TOML
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8: {exc.reason}", file=file, hint="save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file, hint="check its permissions") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"invalid TOML: {exc}", file=file, hint="check the quotes, brackets and '=' on that line"
        ) from None
    return _Reader(file, text).read(data)


class _Reader:
    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.lines = key_lines(text)
        self.problems: list[ConfigError] = []

    def problem(self, path: tuple[str, ...], message: str, hint: str) -> None:
        line = next((self.lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in self.lines), None)
        key = ".".join(f'"{p}"' if (" " in p or "." in p) else p for p in path)
        self.problems.append(ConfigError(message, file=self.file, key=key, line=line, hint=hint))

    def read(self, data: dict[str, Any]) -> Glossary:
        terms: dict[str, Term] = {}
        for key in data:
            if key not in ("keep", "term"):
                close = difflib.get_close_matches(key, ["keep", "term"], n=1)
                hint = f"did you mean {close[0]!r}?" if close else 'use keep = [...] or [term."..."] tables'
                self.problem((key,), "unknown key", hint)
        keep = data.get("keep", [])
        if not isinstance(keep, list) or not all(isinstance(k, str) and k.strip() for k in keep):
            self.problem(("keep",), "expected a list of terms", 'e.g. keep = ["OHA", "Grace Long"]')
            keep = []
        for text in keep:
            terms[text.strip()] = Term(text.strip(), keep=True)
        table = data.get("term", {})
        if not isinstance(table, dict):
            self.problem(
                ("term",), "expected tables of terms", '[term."Ocean Harbour Authority"] then fr = "..."'
            )
            table = {}
        for text, spec in table.items():
            term = self._term(text, spec)
            if term is None:
                continue
            if term.text in terms:
                self.problem(("term", text), "term is also in the keep list", "list it in one place only")
                continue
            terms[term.text] = term
        if self.problems:
            raise ConfigError.collect(sorted(self.problems, key=lambda p: p.line or 0), self.file)
        return Glossary(tuple(sorted(terms.values(), key=lambda t: -len(t.text))), self.file)

    def _term(self, text: str, spec: Any) -> Term | None:
        path = ("term", text)
        if not text.strip():
            self.problem(path, "empty term", "write the term between the quotes")
            return None
        if not isinstance(spec, dict):
            self.problem(path, "expected a table", f'[term."{text}"] with keep = true or fr = "..."')
            return None
        keep, translations, before = False, {}, len(self.problems)
        for key, value in spec.items():
            if key == "keep":
                if not isinstance(value, bool):
                    self.problem((*path, key), "expected true or false", "keep = true")
                keep = value is True
            elif not _is_language(key):
                self.problem((*path, key), "unknown key", "use keep = true or a language code such as fr")
            elif not isinstance(value, str) or not value.strip():
                self.problem((*path, key), "expected the translation as a non-empty string", f'{key} = "..."')
            else:
                translations[key] = value.strip()
        if not keep and not translations and len(self.problems) == before:
            self.problem(path, "term has no translation", 'add keep = true or a language, e.g. fr = "..."')
            return None
        return Term(text.strip(), MappingProxyType(translations), keep)


def _is_language(code: str) -> bool:
    try:
        Locale.parse(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return code == code.lower() or "-" in code
