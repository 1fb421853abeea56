"""Configuration: defaults, then config/syndicator.toml, then CLI overrides, validated once.

The settings table (syndicator/settings_table.py) drives validation, `settings_help()` and
`settings_markdown()` (docs/settings.md), so the three never disagree.
Regenerate the docs with: python -m syndicator.config > docs/settings.md
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import sys
import tomllib
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from babel.localedata import locale_identifiers

from syndicator.errors import ConfigError
from syndicator.settings_table import (
    ENGINES,
    EXAMPLE_TOML,
    PLANNED_SOURCE_KINDS,
    REQUIRED,
    SETTINGS,
    SOURCE_KINDS,
    SOURCE_SETTINGS,
    Setting,
)

__all__ = [
    "CONFIG_ENV",
    "ENGINES",
    "REQUIRED",
    "SETTINGS",
    "SOURCE_KINDS",
    "SOURCE_SETTINGS",
    "Config",
    "HttpConfig",
    "LanguagesConfig",
    "PublishConfig",
    "RunConfig",
    "ServeConfig",
    "Setting",
    "SiteConfig",
    "SourceConfig",
    "StoreConfig",
    "TranslationConfig",
    "load_config",
    "parse_duration",
    "settings_help",
    "settings_markdown",
]

CONFIG_ENV = "SYNDICATOR_CONFIG"
DEFAULT_CONFIG = Path("config") / "syndicator.toml"


# --- the validated configuration -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    """[site]: how the site and its feeds present themselves."""

    title: str = "Newsroom"
    link: str
    feeds_url: str = ""  # "" means link + "feeds/"
    timezone: str = "UTC"
    author: str = ""  # "" means the title

    def __post_init__(self) -> None:
        # Derived defaults live here too, so hand-built configs (tests) behave like loaded ones.
        if not self.feeds_url:
            object.__setattr__(self, "feeds_url", _with_slash(self.link) + "feeds/")
        object.__setattr__(self, "feeds_url", _with_slash(self.feeds_url))
        if not self.author:
            object.__setattr__(self, "author", self.title)


@dataclass(frozen=True, kw_only=True)
class LanguagesConfig:
    """[languages]: the language articles are written in and the ones to publish."""

    source: str = "en"
    targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(self.targets))

    @property
    def all(self) -> tuple[str, ...]:
        """The source language then every target, without duplicates."""
        return tuple(dict.fromkeys((self.source, *self.targets)))


@dataclass(frozen=True, kw_only=True)
class TranslationConfig:
    """[translation]: engines and their tuning."""

    engine: str = "argos"
    packages_dir: Path
    engines: Mapping[str, str] = field(default_factory=dict)  # target language -> engine
    beam_size: int = 2
    batch_size: int = 32  # sentences per batch
    threads: int = 2
    pivot: str = "en"
    workers: int = 1  # translation units the service runs at once
    corrections_dir: Path = Path("corrections")  # made absolute by load_config
    retry_after: timedelta = timedelta(minutes=10)
    length_ratio: tuple[float, float] = (0.02, 4.0)
    length_ratio_to_cjk: tuple[float, float] = (0.01, 2.0)
    length_ratio_from_cjk: tuple[float, float] = (0.05, 12.0)
    index_url: str = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"

    def __post_init__(self) -> None:
        # A read-only view keeps the frozen promise for the mapping too.
        object.__setattr__(self, "engines", MappingProxyType(dict(self.engines)))

    def engine_for(self, language: str) -> str:
        """The engine that translates into `language`."""
        return self.engines.get(language, self.engine)


@dataclass(frozen=True, kw_only=True)
class PublishConfig:
    """[publish]: where and how much to write."""

    feeds_dir: Path
    max_entries: int = 50


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """[run]: how the service behaves as a process."""

    stop_timeout: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, kw_only=True)
class ServeConfig:
    """[serve]: the built-in HTTP server, caching and WebSub hubs."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    path: str = "/feeds/"  # URL path of the feeds folder, with leading and trailing "/"
    max_age: timedelta = timedelta(minutes=5)
    hubs: tuple[str, ...] = ()
    refresh: timedelta = timedelta(seconds=2)
    partner_refresh: timedelta = timedelta(seconds=30)
    stale_after: timedelta = timedelta(days=1)
    brotli: bool = True
    gzip_files: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hubs", tuple(self.hubs))
        path = "/" + self.path.strip("/") + "/" if self.path.strip("/") else "/"
        object.__setattr__(self, "path", path)


@dataclass(frozen=True, kw_only=True)
class StoreConfig:
    """[store]: the article database."""

    url: str  # a SQLAlchemy URL; relative SQLite paths are already made absolute


@dataclass(frozen=True, kw_only=True)
class HttpConfig:
    """[http]: how upstream servers are fetched (timeouts and limits)."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 20_000_000
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 1.0
    max_wait: float = 30.0
    max_backoff: timedelta = timedelta(hours=6)
    max_pages: int = 30


@dataclass(frozen=True, kw_only=True)
class SourceConfig:
    """One [[source]] entry."""

    name: str
    kind: str
    every: timedelta = timedelta(minutes=5)
    language: str = "en"
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)  # kind-specific, validated; paths absolute
    jitter: timedelta | None = None  # None: a tenth of `every`, at most 30 s

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        if self.jitter is None:
            object.__setattr__(self, "jitter", min(timedelta(seconds=30), self.every / 10))


@dataclass(frozen=True, kw_only=True)
class Config:
    """The whole validated configuration of one instance."""

    root: Path  # the instance folder: the one that holds config/
    file: Path  # the config file it was read from
    site: SiteConfig
    languages: LanguagesConfig
    translation: TranslationConfig
    publish: PublishConfig
    store: StoreConfig
    locales_dir: Path  # set by publish.locales_dir
    sources: tuple[SourceConfig, ...] = ()
    run: RunConfig = field(default_factory=RunConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    http: HttpConfig = field(default_factory=HttpConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def partners_file(self) -> Path:
        """config/partners.toml: beside the config file, fixed name."""
        return self.file.parent / "partners.toml"


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


# --- durations --------------------------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?")


def parse_duration(text: str) -> timedelta:
    """Parse "30s", "5m", "2h", "1d" or combinations such as "1h30m"; raise ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (write e.g. 30s, 5m, 2h, 1d or 1h30m)")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest parse_duration() spelling of a duration, e.g. "1h30m"."""
    seconds = int(value.total_seconds())
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


# --- loading ----------------------------------------------------------------------------------


def load_config(
    path: Path | None = None,
    overrides: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read, override and validate the configuration; raise one ConfigError listing every problem."""
    env = os.environ if env is None else env
    file = _config_file(path, env)
    text = _read(file)
    data = _parse_toml(text, file)
    validator = _Validator(file, _instance_root(file), text)
    validator.apply_overrides(data, overrides or {})
    config = validator.build(data)
    if validator.problems or config is None:
        # File order reads best; --set problems (no line) come first.
        problems = sorted(validator.problems, key=lambda p: p.line or 0)
        raise ConfigError.collect(problems, file)
    return config


def _config_file(path: Path | str | None, env: Mapping[str, str]) -> Path:
    if path is not None:
        given, origin = Path(path), "the path given"
    elif env.get(CONFIG_ENV):
        given, origin = Path(env[CONFIG_ENV]), CONFIG_ENV
    else:
        given, origin = DEFAULT_CONFIG, ""
    given = given.expanduser()
    if given.is_dir():  # an instance folder or its config/ folder: find the file inside
        inside = [given / DEFAULT_CONFIG, given / DEFAULT_CONFIG.name]
        given = next((p for p in inside if p.is_file()), inside[0])
    # abspath, not resolve(): a symlinked config file must not move the instance root.
    file = Path(os.path.abspath(given))
    if not file.is_file():
        if origin == CONFIG_ENV:
            hint = f"{CONFIG_ENV} points here; fix or unset it"
        elif origin:
            hint = "check the path"
        else:
            hint = (
                "run from the instance folder (the one holding config/), "
                f"pass the file with --config, or set {CONFIG_ENV}"
            )
        raise ConfigError("config file not found", file=file, hint=hint)
    return file


def _instance_root(file: Path) -> Path:
    """The folder that holds config/ (or the file's own folder when it is not in a config/ folder)."""
    return file.parent.parent if file.parent.name == "config" else file.parent


def _read(file: Path) -> str:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", file=file) from exc
    try:
        # utf-8-sig: editors on Windows like to add a BOM, which TOML itself rejects.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = "the file is not UTF-8 text"
        raise ConfigError(message, file=file, line=line, hint="save it as UTF-8") from exc


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_HINTS = (
    ("Invalid value", 'text values need double quotes, e.g. title = "Newsroom"'),
    ("Cannot overwrite", "this key or table is defined twice: keep one"),
    ("Cannot declare", "this key or table is defined twice: keep one"),
    ("Illegal character '\\n'", "close the quotes on the same line, or use triple quotes"),
    ("Unclosed array", "close the list with ] and separate items with commas"),
)


def _parse_toml(text: str, file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = None
        if match := _TOML_POSITION.search(message):
            line = int(match.group(1))
            message = f"{message[: match.start()]} (line {line}, column {match.group(2)})"
        hint = next(
            (h for prefix, h in _TOML_HINTS if message.startswith(prefix)),
            "check the quotes, brackets and '=' on that line",
        )
        raise ConfigError(f"invalid TOML: {message}", file=file, line=line, hint=hint) from None


# --- validation -------------------------------------------------------------------------------

KeyPath = tuple[str | int, ...]


def _key_text(path: KeyPath) -> str:
    """("source", 1, "path") -> "source[1].path"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Invalid(Exception):
    """A value problem found by a kind parser; `at` is relative to the setting's own key."""

    def __init__(self, message: str, hint: str = "", at: KeyPath = ()) -> None:
        super().__init__(message)
        self.message, self.hint, self.at = message, hint, at


class _Invalids(Exception):
    """Several value problems at once (one per list element)."""

    def __init__(self, items: list[_Invalid]) -> None:
        super().__init__(f"{len(items)} problems")
        self.items = items


_MISSING: Any = object()
_SECTIONS: dict[str, dict[str, Setting]] = {}
for _s in SETTINGS:
    _SECTIONS.setdefault(_s.section, {})[_s.name] = _s
_BY_KEY = {s.key: s for s in SETTINGS}
_STRING_KINDS = {"str", "url", "timezone", "language", "path", "dir", "duration", "choice", "database"}
_SOURCE_KEYS = {s.name for group in SOURCE_SETTINGS.values() for s in group}


class _Validator:
    """Walks the parsed TOML once, collecting every problem instead of stopping at the first."""

    def __init__(self, file: Path, root: Path, text: str) -> None:
        self.file, self.root, self.text = file, root, text
        self.problems: list[ConfigError] = []
        self.from_override: set[KeyPath] = set()
        self._lines: dict[KeyPath, int] | None = None

    # problems

    def problem(self, path: KeyPath, message: str, hint: str = "") -> None:
        """Record one problem at a key path, with its line when the key is in the file."""
        if any(path[:n] in self.from_override for n in range(1, len(path) + 1)):
            self.problems.append(ConfigError(f"{message} (from --set)", key=_key_text(path), hint=hint))
            return
        line = self._line_of(path)
        self.problems.append(ConfigError(message, file=self.file, key=_key_text(path), line=line, hint=hint))

    def _line_of(self, path: KeyPath) -> int | None:
        if self._lines is None:
            self._lines = _key_lines(self.text)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

    # overrides

    def apply_overrides(self, data: dict[str, Any], overrides: Mapping[str, str]) -> None:
        """Apply `--set KEY=VALUE` values to the parsed file, before validation."""
        for raw_key, text in overrides.items():
            key = raw_key.strip()
            parts = key.split(".")
            setting, sub = _BY_KEY.get(key), ""
            prefix = _BY_KEY.get(".".join(parts[:2]))
            if setting is None and len(parts) == 3 and prefix is not None and prefix.kind == "language_map":
                setting, sub = prefix, parts[2]  # --set translation.engines.es=apertium
            if setting is None:
                close = difflib.get_close_matches(key, list(_BY_KEY), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "--set takes a global key, e.g. site.title"
                if parts[0] == "source":
                    hint = "--set cannot change [[source]] entries: edit the file"
                self.problems.append(ConfigError("unknown setting (from --set)", key=key, hint=hint))
                continue
            section = data.setdefault(setting.section, {})
            if not isinstance(section, dict):
                continue  # the file's own type error is reported by build()
            value = _override_value(text, setting if not sub else None)
            if sub:
                table = section.setdefault(setting.name, {})
                if not isinstance(table, dict):
                    table = section[setting.name] = {}
                table[sub] = value
                self.from_override.add((setting.section, setting.name, sub))
            else:
                section[setting.name] = value
                self.from_override.add((setting.section, setting.name))

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
        sources = self._sources(data.get("source", _MISSING), values.get("languages.source"))
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
                    (name,), f"expected a table, got {_describe(value)}", f"write it as a [{name}] table"
                )
            else:
                for key in value:
                    if key not in _SECTIONS[name]:
                        self._unknown((name, key), key, _SECTIONS[name])

    def _unknown(self, path: KeyPath, name: str, here: Iterable[str]) -> None:
        here = list(here)
        # Global settings written in the wrong table (or misspelt there) are found too;
        # source keys are a namespace of their own.
        others = {s.name: s.key for s in SETTINGS if s.section != _key_text(path[:-1])}
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
                table = f"[{_key_text(path[:-1])}]" if path[:-1] else "the file"
                if path[0] == "source":
                    table = f"this [[source]] ({_key_text(path[:-1])})"
                example = _EXAMPLES.get(setting.kind, '"..."')
                if setting.choices:
                    example = f'"{setting.choices[0]}"'
                self.problem(
                    path,
                    f"missing required setting {setting.name!r}",
                    f"add {setting.name} = {example} to {table}",
                )
                return False, None
            if setting.default is None:
                return True, None  # derived from other settings later
            raw = setting.default
        try:
            return True, _PARSERS[setting.kind](raw, setting, self.root)
        except _Invalid as exc:
            self.problem((*path, *exc.at), exc.message, exc.hint)
        except _Invalids as exc:
            for item in exc.items:
                self.problem((*path, *item.at), item.message, item.hint)
        return False, None

    def _check_languages(self, values: dict[str, Any], data: dict[str, Any]) -> None:
        source, targets = values.get("languages.source"), values.get("languages.targets")
        if source is not None and targets:
            for i, target in enumerate(targets):
                if _language_id(target) == _language_id(source):
                    self.problem(
                        ("languages", "targets", i),
                        f"{target!r} is the source language",
                        "articles are already published in the source language: remove it from targets",
                    )
        # The raw table, so a bad engine name elsewhere in it does not hide this check.
        translation = data.get("translation")
        engines = translation.get("engines") if isinstance(translation, dict) else None
        if isinstance(engines, dict) and targets is not None:
            wanted = {_language_id(t) for t in targets}
            for language in engines:
                if _is_language(language) and _language_id(language) not in wanted:
                    self.problem(
                        ("translation", "engines", language),
                        f"{language!r} is not a target language",
                        "add it to languages.targets or remove this line",
                    )

    def _sources(self, raw: Any, default_language: str | None) -> list[SourceConfig] | None:
        if raw is _MISSING:
            return []
        if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
            self.problem(
                ("source",),
                f"expected [[source]] tables, got {_describe(raw)}",
                "start each source with a [[source]] line",
            )
            return None
        sources: list[SourceConfig] = []
        seen: dict[str, int] = {}
        ok = True
        for i, entry in enumerate(raw):
            source = self._source(i, entry, default_language)
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

    def _source(self, index: int, entry: dict[str, Any], default_language: str | None) -> SourceConfig | None:
        before = len(self.problems)
        common = {s.name: s for s in SOURCE_SETTINGS["*"]}
        values: dict[str, Any] = {}
        for name, setting in common.items():
            ok, value = self._value(setting, entry.get(name, _MISSING), ("source", index, name))
            if ok:
                values[name] = value
        if isinstance(values.get("name"), str) and not values["name"].strip():
            self.problem(("source", index, "name"), "source name is empty", 'e.g. name = "newsroom"')
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
        return SourceConfig(
            name=values["name"],
            kind=values["kind"],
            every=values["every"],
            language=values["language"] or default_language or "",
            enabled=values["enabled"],
            options=options,
            jitter=values["jitter"],
        )

    def _assemble(self, v: dict[str, Any], sources: list[SourceConfig]) -> Config:
        site = SiteConfig(
            title=v["site.title"],
            link=v["site.link"],
            feeds_url=v["site.feeds_url"] or "",
            timezone=v["site.timezone"],
            author=v["site.author"] or "",
        )
        return Config(
            root=self.root,
            file=self.file,
            site=site,
            languages=LanguagesConfig(source=v["languages.source"], targets=v["languages.targets"]),
            translation=TranslationConfig(
                engine=v["translation.engine"],
                packages_dir=v["translation.packages_dir"],
                engines=v["translation.engines"],
                beam_size=v["translation.beam_size"],
                batch_size=v["translation.batch_size"],
                threads=v["translation.threads"],
                pivot=v["translation.pivot"],
                workers=v["translation.workers"],
                corrections_dir=v["translation.corrections_dir"],
                retry_after=v["translation.retry_after"],
                length_ratio=v["translation.length_ratio"],
                length_ratio_to_cjk=v["translation.length_ratio_to_cjk"],
                length_ratio_from_cjk=v["translation.length_ratio_from_cjk"],
                index_url=v["translation.index_url"],
            ),
            publish=PublishConfig(feeds_dir=v["publish.feeds_dir"], max_entries=v["publish.max_entries"]),
            store=StoreConfig(url=v["store.url"]),
            locales_dir=v["publish.locales_dir"],
            sources=tuple(sources),
            run=RunConfig(stop_timeout=v["run.stop_timeout"]),
            serve=ServeConfig(
                enabled=v["serve.enabled"],
                host=v["serve.host"],
                port=v["serve.port"],
                path=v["serve.path"] or urlsplit(site.feeds_url).path,
                max_age=v["serve.max_age"],
                hubs=v["serve.hubs"],
                refresh=v["serve.refresh"],
                partner_refresh=v["serve.partner_refresh"],
                stale_after=v["serve.stale_after"],
                brotli=v["serve.brotli"],
                gzip_files=v["serve.gzip_files"],
            ),
            http=HttpConfig(**{k.partition(".")[2]: v[k] for k in v if k.startswith("http.")}),
        )


def _ratio(name: str, candidate: str) -> float:
    return difflib.SequenceMatcher(None, name.lower(), candidate.rpartition(".")[2].lower()).ratio()


def _best_match(name: str, candidates: list[str]) -> str | None:
    """The candidate closest to `name` (comparing last key parts), if any is close enough."""
    scored = [(_ratio(name, c), c) for c in candidates]
    best = max(scored, default=(0.0, ""), key=lambda item: item[0])
    return best[1] if best[0] >= 0.6 else None


def _override_value(text: str, setting: Setting | None) -> Any:
    """A --set value: a TOML value when it parses as one, else the plain string."""
    value: Any = text
    if "\n" not in text:  # a newline could smuggle in extra keys
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
    if setting is None or setting.kind in _STRING_KINDS:
        # --set site.title=2024 means the text "2024", not an integer.
        return value if isinstance(value, str) else text
    if setting.kind in ("languages", "urls") and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]  # --set languages.targets=fr,es
    return value


_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]")
_KEY_PART_RE = r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'"""  # bare, "quoted" or 'literal' key
_KEY_PART = re.compile(_KEY_PART_RE)
_KEY_LINE = re.compile(rf"^((?:{_KEY_PART_RE})(?:\s*\.\s*(?:{_KEY_PART_RE}))*)\s*=")


def _key_lines(text: str) -> dict[KeyPath, int]:
    """Line of each key and table header: a cheap scan (multi-line values may fool it, rarely)."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    counts: dict[KeyPath, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if match := _ARRAY_HEADER.match(stripped):
            name = _key_parts(match.group(1))
            counts[name] = counts.get(name, -1) + 1
            table = (*name, counts[name])
        elif match := _HEADER.match(stripped):
            table = _key_parts(match.group(1))
        elif match := _KEY_LINE.match(stripped):
            lines.setdefault((*table, *_key_parts(match.group(1))), number)
            continue
        else:
            continue
        lines.setdefault(table, number)
    return lines


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _KEY_PART.findall(text))


# --- kind parsers: (raw TOML value, setting, instance root) -> value, or raise _Invalid -----------

_EXAMPLES = {
    "url": '"https://news.example.org/"',
    "dir": '"articles"',
    "path": '"data"',
    "str": '"newsroom"',
    "language": '"en"',
    "duration": '"5m"',
}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    names: tuple[tuple[type, str], ...] = (
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (datetime, "a date-time"),
        (date, "a date"),
        (time, "a time"),
    )
    return next((name for cls, name in names if isinstance(value, cls)), type(value).__name__)


def _describe(value: Any) -> str:
    """'a string ("fifty")': the TOML type, plus the value when it is short."""
    if isinstance(value, list | dict):
        return _type_name(value)
    return f"{_type_name(value)} ({_toml_literal(value)})"


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_literal(v)}" for k, v in value.items()) + "}"
    return str(value)


def _expect(value: Any, cls: type, expected: str, setting: Setting | None) -> None:
    """Raise _Invalid unless `value` has the TOML type; `setting` None means a list element."""
    if isinstance(value, cls) and not (cls is int and isinstance(value, bool)):
        return
    hint = ""
    assign = f"{setting.name} = " if setting else ""
    if cls is str and isinstance(value, int | float | bool):
        hint = f'put it in double quotes: {assign}"{_toml_literal(value)}"'
    elif cls in (int, bool) and isinstance(value, str):
        try:
            unquoted = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            unquoted = None
        if isinstance(unquoted, cls) and not (cls is int and isinstance(unquoted, bool)):
            hint = f"remove the quotes: {assign}{value.strip()}"
    elif cls is list and isinstance(value, str):
        hint = f'write a list: {assign}["{value}"]'
    raise _Invalid(f"expected {expected}, got {_describe(value)}", hint)


def _parse_str(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a string", setting)
    return str(value)


def _parse_url(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a URL string", setting)
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in text):
        return text
    hint = 'write the full address, e.g. "https://news.example.org/"'
    if not parts.scheme and text and "." in text.split("/")[0]:
        hint = f'add the scheme: "https://{text}"'
    raise _Invalid(f"{text!r} is not an http(s) URL", hint)


def _parse_timezone(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a time zone name", setting)
    name = str(value)
    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    known = {zone.lower(): zone for zone in zoneinfo.available_timezones()}
    close = [known[z] for z in difflib.get_close_matches(name.lower(), known, n=3)]
    hint = _did_you_mean(close) or "use an IANA name such as 'Europe/Paris' or 'UTC'"
    raise _Invalid(f"unknown time zone {name!r}", hint)


def _parse_language(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a language code", setting)
    _check_language(str(value))
    return str(value)


def _parse_languages(value: Any, setting: Setting, root: Path) -> tuple[str, ...]:
    if isinstance(value, tuple):  # the table's default; TOML itself only gives lists
        value = list(value)
    _expect(value, list, "a list of language codes", setting)
    problems: list[_Invalid] = []
    seen: set[str] = set()
    for i, code in enumerate(value):
        try:
            _expect(code, str, "a language code", None)
            _check_language(code)
        except _Invalid as exc:
            problems.append(_Invalid(exc.message, exc.hint, at=(i,)))
            continue
        if _language_id(code) in seen:
            problems.append(_Invalid(f"{code!r} is listed twice", "list each language once", at=(i,)))
        seen.add(_language_id(code))
    if problems:
        raise _Invalids(problems)
    return tuple(value)


def _parse_urls(value: Any, setting: Setting, root: Path) -> tuple[str, ...]:
    if isinstance(value, tuple):  # the table's default
        value = list(value)
    _expect(value, list, "a list of URL strings", setting)
    problems: list[_Invalid] = []
    urls: list[str] = []
    for i, item in enumerate(value):
        try:
            urls.append(_parse_url(item, setting, root))
        except _Invalid as exc:
            problems.append(_Invalid(exc.message, exc.hint, at=(i,)))
    if problems:
        raise _Invalids(problems)
    return tuple(dict.fromkeys(urls))


def _parse_int(value: Any, setting: Setting, root: Path) -> int:
    _expect(value, int, "an integer", setting)
    if setting.minimum is not None and value < setting.minimum:
        raise _Invalid(f"must be at least {setting.minimum}, got {value}")
    return int(value)


def _parse_bool(value: Any, setting: Setting, root: Path) -> bool:
    _expect(value, bool, "a boolean (true or false)", setting)
    return bool(value)


def _parse_path(value: Any, setting: Setting, root: Path) -> Path:
    _expect(value, str, "a path string", setting)
    if not str(value).strip():
        raise _Invalid("the path is empty", f"e.g. {setting.name} = {_EXAMPLES['path']}")
    path = Path(str(value)).expanduser()
    return Path(os.path.normpath(root / path))  # root / absolute path is just the absolute path


def _parse_dir(value: Any, setting: Setting, root: Path) -> Path:
    path = _parse_path(value, setting, root)
    if not path.exists():
        raise _Invalid(f"folder {value!r} does not exist", f"create it or fix the path; looked for {path}")
    if not path.is_dir():
        raise _Invalid(f"{value!r} is not a folder", f"{path} is a file: give the folder holding the files")
    return path


def _parse_duration(value: Any, setting: Setting, root: Path) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool):
        raise _Invalid(
            f"expected a duration string, got {_describe(value)}",
            f'add a unit: {setting.name} = "{value}s" (or "5m", "2h", "1d")',
        )
    _expect(value, str, "a duration string", setting)
    try:
        duration = parse_duration(str(value))
    except ValueError:
        raise _Invalid(
            f"{value!r} is not a duration", 'write it like "30s", "5m", "2h", "1d" or "1h30m"'
        ) from None
    if setting.minimum is not None and duration < setting.minimum:
        raise _Invalid(f"{value!r} is too short", f"the minimum is {format_duration(setting.minimum)}")
    return duration


def _parse_choice(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a string", setting)
    if value in setting.choices:
        return str(value)
    allowed = f"{setting.name} must be one of: {', '.join(setting.choices)}"
    if setting.choices == SOURCE_KINDS and value in PLANNED_SOURCE_KINDS:
        raise _Invalid(f"source kind {value!r} is not supported yet", allowed)
    close = difflib.get_close_matches(str(value), setting.choices, n=1)
    hint = f"did you mean {close[0]!r}? {allowed}" if close else allowed
    raise _Invalid(f"unknown {setting.name} {value!r}", hint)


def _parse_number(value: Any, setting: Setting, root: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _expect(value, float, "a number", setting)
    if setting.minimum is not None and value < setting.minimum:
        raise _Invalid(f"must be at least {setting.minimum}, got {value}")
    return float(value)


def _parse_selectors(value: Any, setting: Setting, root: Path) -> dict[str, str]:
    _expect(value, dict, "a table of CSS selectors", setting)
    # Imported here: only configs with web sources pay for it.
    from cssselect import GenericTranslator, SelectorError

    problems: list[_Invalid] = []
    result: dict[str, str] = {}
    for name, css in value.items():
        if name not in setting.choices:
            close = difflib.get_close_matches(name, setting.choices, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                _Invalid("unknown selector field", hint + "fields: " + ", ".join(setting.choices), at=(name,))
            )
            continue
        if not isinstance(css, str) or not css.strip():
            problems.append(
                _Invalid(
                    f"expected a CSS selector string, got {_describe(css)}", 'e.g. "h1.headline"', at=(name,)
                )
            )
            continue
        try:
            GenericTranslator().css_to_xpath(css)
        except SelectorError as exc:
            problems.append(
                _Invalid(f"{css!r} is not a valid CSS selector: {exc}", 'e.g. "article h1"', at=(name,))
            )
            continue
        result[name] = css
    if problems:
        raise _Invalids(problems)
    return result


def _parse_language_map(value: Any, setting: Setting, root: Path) -> dict[str, str]:
    _expect(value, dict, "a table", setting)
    problems: list[_Invalid] = []
    result: dict[str, str] = {}
    for language, engine in value.items():
        try:
            _check_language(language)
            # Named "engine" so messages read "unknown engine 'x'" and "engine must be one of: ...".
            choice = Setting("engine", "choice", None, setting.help, setting.choices)
            result[language] = _parse_choice(engine, choice, root)
        except _Invalid as exc:
            problems.append(_Invalid(exc.message, exc.hint, at=(language,)))
    if problems:
        raise _Invalids(problems)
    return result


def _parse_ratio_range(value: Any, setting: Setting, root: Path) -> tuple[float, float]:
    if isinstance(value, tuple):  # the table's default
        value = list(value)
    _expect(value, list, "a list [min, max]", setting)
    numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(value) != 2 or len(numbers) != 2 or not 0 <= numbers[0] < numbers[1]:
        raise _Invalid(
            f"expected [min, max] with 0 <= min < max, got {_describe(value)}",
            f"e.g. {setting.name} = {_toml_literal(setting.default)}",
        )
    return float(numbers[0]), float(numbers[1])


def _parse_database(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a database URL string", setting)
    # Imported here: SQLAlchemy is slow to import and `--help` should not pay for it.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(str(value))
    except ArgumentError:
        raise _Invalid(
            f"{value!r} is not a database URL", 'e.g. url = "sqlite:///data/syndicator.db"'
        ) from None
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return str(value)
    if database.startswith("file:") or Path(database).is_absolute():
        return str(value)
    # Only a relative SQLite path is rewritten, so other URLs keep the user's exact spelling.
    absolute = os.path.normpath(root / Path(database).expanduser())
    return url.set(database=absolute).render_as_string(hide_password=False)


_PARSERS: dict[str, Callable[[Any, Setting, Path], Any]] = {
    "str": _parse_str,
    "url": _parse_url,
    "timezone": _parse_timezone,
    "language": _parse_language,
    "languages": _parse_languages,
    "int": _parse_int,
    "bool": _parse_bool,
    "path": _parse_path,
    "dir": _parse_dir,
    "duration": _parse_duration,
    "choice": _parse_choice,
    "language_map": _parse_language_map,
    "database": _parse_database,
    "ratio_range": _parse_ratio_range,
    "urls": _parse_urls,
    "number": _parse_number,
    "selectors": _parse_selectors,
}


# --- languages --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _language_id(code: str) -> str:
    """Babel's canonical id, to compare 'pt-BR' with 'pt_BR'; the code itself when Babel rejects it."""
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return code


def _is_language(code: str) -> bool:
    """True for codes Babel knows (ISO 639 / BCP 47 such as "en", "zh", "pt-BR", "pt_BR")."""
    # Babel maps "und" and "root" to real locales, which is never what an admin means.
    if code.strip() != code or code.lower() in ("und", "root"):
        return False
    try:
        Locale.parse(code.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


def _check_language(code: str) -> None:
    """Raise _Invalid, with close matches as the hint, unless Babel knows the code."""
    if not _is_language(code):
        raise _Invalid(f"unknown language {code!r}", _language_hint(code))


def _language_hint(code: str) -> str:
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
    if head != lowered and _is_language(head):
        suggestions.append(head)  # "ar-XX" -> "ar"
    known = {ident.lower(): ident for ident in locale_identifiers()}
    close = difflib.get_close_matches(lowered.replace("-", "_"), known, n=3)
    suggestions += [known[k].replace("_", sep) for k in close]
    if len(lowered) > 3:  # looks like a name: "Frnch" -> fr
        suggestions += [names[n] for n in difflib.get_close_matches(lowered, names, n=1)]
    fallback = "use an ISO 639 code such as 'en', 'fr' or 'pt-BR'"
    return _did_you_mean(list(dict.fromkeys(suggestions))[:3]) or fallback


def _did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    if len(options) == 1:
        return f"did you mean {options[0]!r}?"
    return "did you mean one of: " + ", ".join(repr(o) for o in options) + "?"


# --- documentation ----------------------------------------------------------------------------


def _type_label(setting: Setting) -> str:
    labels = {
        "str": "string",
        "url": "URL",
        "timezone": "time zone",
        "language": "language code",
        "languages": "list of language codes",
        "int": "integer",
        "bool": "boolean",
        "path": "path",
        "dir": "folder (must exist)",
        "duration": "duration",
        "database": "database URL",
        "ratio_range": "[min, max] numbers",
        "urls": "list of URLs",
        "number": "number",
    }
    if setting.kind == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in setting.choices)
    if setting.kind == "selectors":
        return "table: " + " / ".join(f"`{c}`" for c in setting.choices) + " → CSS selector"
    if setting.kind == "language_map":
        return "table: language → " + " or ".join(f"`{c}`" for c in setting.choices)
    label = labels[setting.kind]
    if isinstance(setting.minimum, timedelta):
        return f"{label} ≥ {format_duration(setting.minimum)}"
    if setting.minimum is not None:
        return f"{label} ≥ {setting.minimum}"
    return label


def _default_label(setting: Setting) -> str:
    if setting.default is REQUIRED:
        return "*required*"
    if setting.default is None:
        return f"`{setting.default_doc}`"
    return f"`{_toml_literal(setting.default)}`"


def _table(settings: Iterable[Setting]) -> list[str]:
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for s in settings:
        cells = (f"`{s.key}`", _type_label(s), _default_label(s), s.help)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return rows


def settings_markdown() -> str:
    """The content of docs/settings.md, generated from the settings tables."""
    out = [
        "# Settings",
        "",
        "<!-- Generated from syndicator/settings_table.py by"
        " `python -m syndicator.config > docs/settings.md`; do not edit by hand. -->",
        "",
        "Syndicator reads `config/syndicator.toml` in the instance folder (the folder that holds `config/`),",
        f"or the file given by `--config` or the `{CONFIG_ENV}` environment variable.",
        "Settings are applied in order: defaults, then the file, then `--set KEY=VALUE` options;",
        "the result is validated once, and every problem is reported together.",
        "",
        "- A key such as `site.title` is written as `title = ...` under `[site]`.",
        "- Relative paths are relative to the instance folder.",
        '- Durations are written like `"30s"`, `"5m"`, `"2h"`, `"1d"` or `"1h30m"`.',
        "- Language codes are ISO 639 / BCP 47 codes that Babel knows, such as `en`, `zh` or `pt-BR`.",
        "- `--set` values are read as TOML values when they parse (`--set publish.max_entries=20`),",
        '  else as plain text (`--set "site.title=Daily News"`); `--set languages.targets=fr,es` also works.',
        "",
        "## Global settings",
        "",
        *_table(SETTINGS),
        "",
        "## Sources",
        "",
        "Each source is a `[[source]]` table. Source kinds: "
        + ", ".join(f"`{k}`" for k in SOURCE_KINDS)
        + ".",
        "",
        "### Keys of every source",
        "",
        *_table(SOURCE_SETTINGS["*"]),
    ]
    for kind in SOURCE_KINDS:
        out += ["", f'### Keys of `kind = "{kind}"`', "", *_table(SOURCE_SETTINGS[kind])]
    out += ["", "## Example", "", "```toml", EXAMPLE_TOML.rstrip("\n"), "```", ""]
    return "\n".join(out)


def settings_help() -> str:
    """A short list of settings for the CLI's --help epilog (use a raw formatter to keep the layout)."""
    rows = [
        (
            s.key,
            _type_label(s).replace("`", ""),
            _default_label(s).replace("`", "").replace("*required*", "(required)"),
        )
        for s in SETTINGS
    ]
    width = max(len(r[0]) for r in rows)
    kind_width = max(len(r[1]) for r in rows)
    lines = ["settings (config/syndicator.toml, or --set KEY=VALUE):"]
    lines += [f"  {key:<{width}}  {kind:<{kind_width}}  {default}" for key, kind, default in rows]
    common = ", ".join(s.name for s in SOURCE_SETTINGS["*"])
    lines.append(f"each [[source]] has: {common}")
    for kind in SOURCE_KINDS:
        lines.append(f'  kind = "{kind}" adds: ' + ", ".join(s.name for s in SOURCE_SETTINGS[kind]))
    lines.append("full reference: docs/settings.md")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(settings_markdown())
