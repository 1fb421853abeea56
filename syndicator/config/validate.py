"""The validator walk: every setting of the parsed TOML checked once, every problem collected."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from syndicator.config.files import Problems
from syndicator.config.languages import is_language, language_id, language_key
from syndicator.config.model import Config
from syndicator.config.parsers import EXAMPLES, PARSERS, Invalid, Invalids, describe, toml_form
from syndicator.config.tomllines import KeyPath, key_text
from syndicator.errors import ConfigError
from syndicator.settings_table import (
    REQUIRED,
    SECTIONS,
    SETTINGS,
    SOURCE_SETTINGS,
    Setting,
    SourceConfig,
    settings_of,
)

_MISSING: Any = object()
_SECTIONS: dict[str, dict[str, Setting]] = {}
for _s in SETTINGS:
    _SECTIONS.setdefault(_s.section, {})[_s.name] = _s
_BY_KEY = {s.key: s for s in SETTINGS}
_STRING_KINDS = {
    "str",
    "url",
    "timezone",
    "language",
    "path",
    "dir",
    "duration",
    "choice",
    "database",
    "target",
    "endpoint",
}
MAX_SOURCE_NAME = 100  # characters; it is part of keys of at most 200 in the store
_SOURCE_KEYS = {s.name for group in SOURCE_SETTINGS.values() for s in group}


class Validator:
    """Walks the parsed TOML once, collecting every problem instead of stopping at the first."""

    def __init__(self, file: Path, root: Path, text: str) -> None:
        self.file, self.root = file, root
        self.problems = Problems(file, text)
        self.problem = self.problems.add

    # overrides

    def apply_overrides(self, data: dict[str, Any], overrides: Mapping[str, str]) -> None:
        """Apply `--set KEY=VALUE` values to the parsed file, before validation."""
        for raw_key, text in overrides.items():
            key = raw_key.strip()
            parts = key.split(".")
            setting, sub = _BY_KEY.get(key), ""
            prefix = _BY_KEY.get(".".join(parts[:2]))
            if setting is None and len(parts) == 3 and prefix is not None and prefix.kind in _MAP_KINDS:
                setting, sub = prefix, parts[2]  # --set translation.engines.es=apertium
            if setting is None:
                close = difflib.get_close_matches(key, list(_BY_KEY), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "--set takes a global key, e.g. site.title"
                if parts[0] == "source":
                    hint = "--set cannot change [[source]] entries: edit the file"
                self.problems.add_error(ConfigError("unknown setting (from --set)", key=key, hint=hint))
                continue
            section = data.setdefault(setting.section, {})
            if not isinstance(section, dict):
                continue  # the file's own type error is reported by build()
            value = _override_value(text, setting if not sub or setting.kind == "language_ratios" else None)
            if sub:
                table = section.setdefault(setting.name, {})
                if not isinstance(table, dict):
                    table = section[setting.name] = {}
                table[sub] = value
                self.problems.overridden.add((setting.section, setting.name, sub))
            else:
                section[setting.name] = value
                self.problems.overridden.add((setting.section, setting.name))

    # the walk

    def build(self, data: dict[str, Any]) -> Config | None:
        """Validate everything; return the Config, or None when problems were recorded."""
        self._check_top_level(data)
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            section = data.get(setting.section, {})
            if not isinstance(section, dict):
                continue  # already reported as "expected a table"; its keys cannot be judged
            raw = section.get(setting.name, _MISSING)
            ok, value = self._value(setting, raw, (setting.section, setting.name))
            if ok:
                values[setting.key] = value
        self._check_languages(values, data)
        self._check_runner(values)
        sources = self._sources(data.get("source", _MISSING))
        if self.problems or sources is None:
            return None
        return self._assemble(values, sources)

    def _check_top_level(self, data: dict[str, Any]) -> None:
        for name, value in data.items():
            if name == "source":
                continue
            if name not in _SECTIONS:
                self._unknown((name,), name, [*_SECTIONS, "source"])
            elif not isinstance(value, dict):
                self.problem(
                    (name,), f"expected a table, got {describe(value)}", f"write it as a [{name}] table"
                )
            else:
                for key in value:
                    if key not in _SECTIONS[name]:
                        self._unknown((name, key), key, _SECTIONS[name])

    def _unknown(self, path: KeyPath, name: str, here: Iterable[str]) -> None:
        here = list(here)
        # Global settings written in the wrong table (or misspelt there) are found too;
        # source keys are a namespace of their own.
        others = {s.name: s.key for s in SETTINGS if s.section != key_text(path[:-1])}
        if path[0] == "source":
            others = {}
        in_place = _best_match(name, here)
        elsewhere = others.get(name) or others.get(_best_match(name, list(others)) or "")
        if elsewhere and (not in_place or name in others or _ratio(name, elsewhere) > _ratio(name, in_place)):
            hint = f"did you mean {elsewhere!r}? (it belongs under [{elsewhere.rpartition('.')[0]}])"
        elif in_place:
            hint = f"did you mean {in_place!r}?"
        elif here:
            hint = f"known keys here: {', '.join(here)}"
        else:
            hint = "remove it"
        self.problem(path, "unknown setting", hint)

    def _value(self, setting: Setting, raw: Any, path: KeyPath) -> tuple[bool, Any]:
        """Parse one setting (or its default); (False, None) when it is missing or invalid."""
        if raw is _MISSING:
            if setting.default is REQUIRED:
                table = f"[{key_text(path[:-1])}]" if path[:-1] else "the file"
                if path[0] == "source":
                    table = f"this [[source]] ({key_text(path[:-1])})"
                example = EXAMPLES.get(setting.kind, '"..."')
                if setting.choices:
                    example = f'"{setting.choices[0]}"'
                self.problem(
                    path,
                    f"missing required setting {setting.name!r}",
                    f"add {setting.name} = {example} to {table}",
                )
                return False, None
            if setting.derived:
                return True, setting.default  # "" or None: the config class computes it from other settings
            raw = toml_form(setting.default)
        if isinstance(raw, dict) and path[0] != "source":
            raw = self._misplaced(raw, path)
        try:
            return True, PARSERS[setting.kind](raw, setting, self.root)
        except Invalid as exc:
            self.problem((*path, *exc.at), exc.message, exc.hint)
        except Invalids as exc:
            for item in exc.items:
                self.problem((*path, *item.at), item.message, item.hint)
        return False, None

    def _misplaced(self, table: dict[str, Any], path: KeyPath) -> dict[str, Any]:
        """A setting's table (such as [translation.engines]) without the keys that are settings of its parent
        table: TOML puts every key written below a table's header into that table, so a setting added at the end
        of [translation] after [translation.engines] lands there. Each is reported with where it belongs."""
        parent = key_text(path[:-1])
        names = {s.name for s in SETTINGS if s.section == parent}
        kept = {}
        for key, value in table.items():
            if key in names and key != path[-1]:
                self.problem(
                    (*path, key),
                    f"{key!r} is a setting of [{parent}], not an entry of [{key_text(path)}]",
                    f"move it above the [{key_text(path)}] header: TOML puts every key below a header into that table",
                )
            else:
                kept[key] = value
        return kept

    def _check_runner(self, values: dict[str, Any]) -> None:
        broker = values.get("run.broker") or ""
        if values.get("run.runner") == "celery" and not broker:
            self.problem(
                ("run", "broker"),
                "run.runner = celery needs a message broker",
                'e.g. broker = "amqp://syndicator:SECRET@mq.example.org/syndicator" (RabbitMQ)',
            )
        elif broker and "://" not in broker:
            self.problem(
                ("run", "broker"), f"{broker!r} is not a broker URL", 'e.g. "amqp://user@host/vhost"'
            )

    def _check_languages(self, values: dict[str, Any], data: dict[str, Any]) -> None:
        source, targets = values.get("languages.source"), values.get("languages.targets")
        if source is not None and targets:
            for i, target in enumerate(targets):
                if language_key(target) == language_key(source):
                    self.problem(
                        ("languages", "targets", i),
                        f"{target!r} is the source language",
                        "articles are already published in the source language: remove it from targets",
                    )
        # The raw table, so a bad engine name elsewhere in it does not hide this check.
        translation = data.get("translation")
        engines = translation.get("engines") if isinstance(translation, dict) else None
        if isinstance(engines, dict) and targets is not None:
            wanted = {language_id(t) for t in targets}
            for language in engines:
                if is_language(language) and language_id(language) not in wanted:
                    self.problem(
                        ("translation", "engines", language),
                        f"{language!r} is not a target language",
                        "add it to languages.targets or remove this line",
                    )

    def _sources(self, raw: Any) -> list[SourceConfig] | None:
        if raw is _MISSING:
            return []
        if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
            self.problem(
                ("source",),
                f"expected [[source]] tables, got {describe(raw)}",
                "start each source with a [[source]] line",
            )
            return None
        sources: list[SourceConfig] = []
        seen: dict[str, int] = {}
        ok = True
        for i, entry in enumerate(raw):
            source = self._source(i, entry)
            if source is None:
                ok = False
            else:
                sources.append(source)
            # Checked on the raw name so a duplicate shows up even beside other problems in the entry.
            name = entry.get("name")
            if not isinstance(name, str) or not name.strip():
                continue
            if name in seen:
                self.problem(
                    ("source", i, "name"),
                    f"duplicate source name {name!r}",
                    f"source[{seen[name]}] already uses it: names must be unique",
                )
                ok = False
            seen.setdefault(name, i)
        return sources if ok else None

    def _source(self, index: int, entry: dict[str, Any]) -> SourceConfig | None:
        before = len(self.problems)
        common = {s.name: s for s in SOURCE_SETTINGS["*"]}
        values: dict[str, Any] = {}
        for name, setting in common.items():
            ok, value = self._value(setting, entry.get(name, _MISSING), ("source", index, name))
            if ok:
                values[name] = value
        if isinstance(values.get("name"), str) and not values["name"].strip():
            self.problem(("source", index, "name"), "source name is empty", 'e.g. name = "newsroom"')
        elif isinstance(values.get("name"), str) and len(values["name"]) > MAX_SOURCE_NAME:
            # The name keys the store's rows (PostgreSQL enforces column lengths, SQLite does not).
            self.problem(("source", index, "name"), f"source name longer than {MAX_SOURCE_NAME} characters",
                         'a short name, e.g. name = "newsroom"')  # fmt: skip
        kind = values.get("kind")
        specific = {s.name: s for s in SOURCE_SETTINGS.get(kind, ())} if kind else {}
        options: dict[str, Any] = {}
        for opt_name, setting in specific.items():
            ok, value = self._value(setting, entry.get(opt_name, _MISSING), ("source", index, opt_name))
            if ok:
                options[opt_name] = value
        # Without a valid kind we cannot tell which other keys belong: the kind's error is enough.
        if kind or "kind" not in entry:
            for key in entry:
                if key not in common and key not in specific and (kind or key not in _SOURCE_KEYS):
                    self._unknown(("source", index, key), key, [*common, *specific])
        if len(self.problems) > before:
            return None
        return SourceConfig(**values, options=options)

    def _assemble(self, values: dict[str, Any], sources: list[SourceConfig]) -> Config:
        """One object per [section], each field from its setting: the table is the only list of them."""
        sections = {
            name: cls(**{s.name: values[s.key] for s in settings_of(cls)}) for name, cls in SECTIONS.items()
        }
        return Config(root=self.root, file=self.file, sources=tuple(sources), **sections)


def _ratio(name: str, candidate: str) -> float:
    return difflib.SequenceMatcher(None, name.lower(), candidate.rpartition(".")[2].lower()).ratio()


def _best_match(name: str, candidates: list[str]) -> str | None:
    """The candidate closest to `name` (comparing last key parts), if any is close enough."""
    scored = [(_ratio(name, c), c) for c in candidates]
    best = max(scored, default=(0.0, ""), key=lambda item: item[0])
    return best[1] if best[0] >= 0.6 else None


# Settings that are tables keyed by language: --set translation.engines.es=apertium sets one key.
_MAP_KINDS = ("language_map", "language_ratios")


def _override_value(text: str, setting: Setting | None) -> Any:
    """A --set value: a TOML value when it parses as one, else the plain string."""
    value: Any = text
    if "\n" not in text:  # a newline could smuggle in extra keys
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
    if setting is not None and setting.bare_seconds and isinstance(value, int | float):
        return value  # --set http.deadline=2: seconds, as that setting's old number form in the file
    if setting is None or setting.kind in _STRING_KINDS:
        # --set site.title=2024 means the text "2024", not an integer.
        return value if isinstance(value, str) else text
    if setting.kind in ("languages", "urls") and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]  # --set languages.targets=fr,es
    return value
