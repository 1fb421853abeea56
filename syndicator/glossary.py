"""The glossary, config/glossary.toml: terms kept as written, or given a fixed translation per language.

Shape (documented in docs/translation.md):

    keep = ["OHA", "Grace Long"]             # kept exactly as written in every language

    [term."Ocean Harbour Authority"]
    fr = "Autorité portuaire de l'Océan"    # fixed translation per language
    es = "Autoridad Portuaria del Océano"
    keep = true                             # other languages: keep as written (default: the model translates)
    gender = { es = "f" }                   # the rendering's gender (and number: "f pl"), for the words
                                            # around it (translate/agreement.py); inferred when not given
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from syndicator.config.files import Problems, read_toml
from syndicator.config.languages import is_language, language_id
from syndicator.config.tomllines import KeyPath

GLOSSARY_FILE = Path("config") / "glossary.toml"
# What `gender = { es = "f" }` may say: the rendering's gender, and " pl" for a plural one.
GENDERS = ("m", "f", "m pl", "f pl")


@dataclass(frozen=True)
class Agreement:
    """A rendering's gender and number: what a determiner before it must agree with."""

    gender: str  # "m" or "f"
    plural: bool = False

    @classmethod
    def parse(cls, value: str) -> Agreement:
        """From one of GENDERS ("f", "m pl"…)."""
        gender, _, number = value.partition(" ")
        return cls(gender, number == "pl")


@dataclass(frozen=True)
class Term:
    """One glossary term: its fixed translations, and whether other languages keep it as written."""

    text: str
    translations: Mapping[str, str] = field(default_factory=dict)
    keep: bool = False
    genders: Mapping[str, Agreement] = field(default_factory=dict)  # declared, per language id

    def gender(self, language: str) -> Agreement | None:
        """The declared gender and number of the term's rendering in a language, if the glossary gives one."""
        full = language_id(language)
        return self.genders.get(full) or self.genders.get(full.split("_")[0])

    def render(self, language: str) -> str | None:
        """The term in a language, or None when the model should translate it there."""
        # Keys are Babel's canonical ids, so "pt-BR" in the config finds "pt_BR" in the glossary.
        full = language_id(language)
        for code in (full, full.split("_")[0]):
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

    def genders(self, language: str) -> dict[str, Agreement]:
        """Rendering → its declared gender and number, for the terms that declare one in a language."""
        return {
            r: g for t in self.terms if (r := t.render(language)) is not None and (g := t.gender(language))
        }

    def unrendered(self, language: str) -> list[str]:
        """Terms with no rendering in a language: the engine translates them there, but only whole."""
        return [t.text for t in self.terms if t.render(language) is None]


EMPTY = Glossary()


def load_glossary(root: Path) -> Glossary:
    """Read and validate <instance>/config/glossary.toml; a missing file is an empty glossary."""
    file = root / GLOSSARY_FILE
    try:
        text, data = read_toml(file)
    except FileNotFoundError:
        return Glossary(file=None)
    return _Reader(Problems(file, text)).read(data)


class _Reader:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.problem = problems.add

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
        self.problems.raise_any()
        return Glossary(tuple(sorted(terms.values(), key=lambda t: -len(t.text))), self.problems.file)

    def _term(self, text: str, spec: Any) -> Term | None:
        path: KeyPath = ("term", text)
        if not text.strip():
            self.problem(path, "empty term", "write the term between the quotes")
            return None
        if not isinstance(spec, dict):
            self.problem(path, "expected a table", f'[term."{text}"] with keep = true or fr = "..."')
            return None
        keep, translations, before = False, {}, len(self.problems)
        for key, value in spec.items():
            if key == "gender":
                continue  # read once the term's languages are known
            if key == "keep":
                if not isinstance(value, bool):
                    self.problem((*path, key), "expected true or false", "keep = true")
                keep = value is True
            elif not is_language(key):
                self.problem((*path, key), "unknown key", "use keep = true or a language code such as fr")
            elif not isinstance(value, str) or not value.strip():
                self.problem((*path, key), "expected the translation as a non-empty string", f'{key} = "..."')
            else:
                translations[language_id(key)] = value.strip()
        if not keep and not translations and len(self.problems) == before:
            self.problem(path, "term has no translation", 'add keep = true or a language, e.g. fr = "..."')
            return None
        term = Term(text.strip(), MappingProxyType(translations), keep)
        genders = self._genders((*path, "gender"), spec.get("gender", {}), term)
        return replace(term, genders=MappingProxyType(genders))

    def _genders(self, path: KeyPath, spec: Any, term: Term) -> dict[str, Agreement]:
        """`gender = { es = "f" }`: per language, the gender (and number) of the term as rendered there."""
        if not isinstance(spec, dict):
            self.problem(path, "expected a table of languages", 'gender = { es = "f" }')
            return {}
        found = {}
        for key, value in spec.items():
            if not is_language(key):
                self.problem(
                    (*path, key), "unknown language", 'a language code such as es: gender = { es = "f" }'
                )
            elif value not in GENDERS:
                choices = ", ".join(f'"{g}"' for g in GENDERS)
                self.problem((*path, key), f"expected one of {choices}", f'{key} = "f" (feminine singular)')
            elif term.render(key) is None:
                self.problem(
                    (*path, key),
                    "the term has no rendering in this language (the engine translates it, and makes it agree)",
                    f'give its rendering ({key} = "...") or keep = true, or remove this gender',
                )
            else:
                found[language_id(key)] = Agreement.parse(value)
        return found
