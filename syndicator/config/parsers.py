"""Value parsers, one per setting kind: (raw TOML value, setting, instance root) -> value, or raise Invalid."""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syndicator.config.durations import format_duration, parse_duration
from syndicator.config.languages import bcp47, did_you_mean, is_language, language_hint, language_key
from syndicator.config.tomllines import KeyPath
from syndicator.settings_table import PLANNED_SOURCE_KINDS, SOURCE_KINDS, Setting


class Invalid(Exception):
    """A value problem found by a kind parser; `at` is relative to the setting's own key."""

    def __init__(self, message: str, hint: str = "", at: KeyPath = ()) -> None:
        super().__init__(message)
        self.message, self.hint, self.at = message, hint, at


class Invalids(Exception):
    """Several value problems at once (one per list element)."""

    def __init__(self, items: list[Invalid]) -> None:
        super().__init__(f"{len(items)} problems")
        self.items = items


EXAMPLES = {
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


def describe(value: Any) -> str:
    """'a string ("fifty")': the TOML type, plus the value when it is short."""
    if isinstance(value, list | dict):
        return _type_name(value)
    return f"{_type_name(value)} ({toml_literal(value)})"


def toml_form(value: Any) -> Any:
    """A default from the settings table as it would be written in TOML: what the parsers read."""
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [toml_form(v) for v in value]
    if isinstance(value, Mapping):
        return {k: toml_form(v) for k, v in value.items()}
    return value


def toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_literal(v)}" for k, v in value.items()) + "}"
    return str(value)


def _expect(value: Any, cls: type, expected: str, setting: Setting | None) -> None:
    """Raise Invalid unless `value` has the TOML type; `setting` None means a list element."""
    if isinstance(value, cls) and not (cls is int and isinstance(value, bool)):
        return
    hint = ""
    assign = f"{setting.name} = " if setting else ""
    if cls is str and isinstance(value, int | float | bool):
        hint = f'put it in double quotes: {assign}"{toml_literal(value)}"'
    elif cls in (int, bool) and isinstance(value, str):
        try:
            unquoted = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            unquoted = None
        if isinstance(unquoted, cls) and not (cls is int and isinstance(unquoted, bool)):
            hint = f"remove the quotes: {assign}{value.strip()}"
    elif cls is list and isinstance(value, str):
        hint = f'write a list: {assign}["{value}"]'
    raise Invalid(f"expected {expected}, got {describe(value)}", hint)


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
    raise Invalid(f"{text!r} is not an http(s) URL", hint)


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
    hint = did_you_mean(close) or "use an IANA name such as 'Europe/Paris' or 'UTC'"
    raise Invalid(f"unknown time zone {name!r}", hint)


def _parse_language(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a language code", setting)
    _check_language(str(value))
    return bcp47(str(value))


def _parse_languages(value: Any, setting: Setting, root: Path) -> tuple[str, ...]:
    _expect(value, list, "a list of language codes", setting)
    problems: list[Invalid] = []
    seen: dict[str, str] = {}  # language_key → the code that listed it first
    for i, code in enumerate(value):
        try:
            _expect(code, str, "a language code", None)
            _check_language(code)
        except Invalid as exc:
            problems.append(Invalid(exc.message, exc.hint, at=(i,)))
            continue
        # Published codes are BCP 47 ("fr_FR" → "fr-FR"); a region that is the language's default is the same
        # language ("fr" and "fr-FR" would publish one translation twice under two names).
        if (first := seen.get(language_key(code))) is not None:
            again = "listed twice" if bcp47(first) == bcp47(code) else f"the same language as {first!r}"
            problems.append(Invalid(f"{code!r} is {again}", "list each language once", at=(i,)))
        seen.setdefault(language_key(code), code)
    if problems:
        raise Invalids(problems)
    return tuple(bcp47(code) for code in value)


def _parse_urls(value: Any, setting: Setting, root: Path) -> tuple[str, ...]:
    _expect(value, list, "a list of URL strings", setting)
    problems: list[Invalid] = []
    urls: list[str] = []
    for i, item in enumerate(value):
        try:
            urls.append(_parse_url(item, setting, root))
        except Invalid as exc:
            problems.append(Invalid(exc.message, exc.hint, at=(i,)))
    if problems:
        raise Invalids(problems)
    return tuple(dict.fromkeys(urls))


def _parse_int(value: Any, setting: Setting, root: Path) -> int:
    _expect(value, int, "an integer", setting)
    _check_range(value, setting)
    return int(value)


# Every duration is added to a date somewhere (a schedule, a retry, an expiry): far enough out, that raises
# OverflowError mid-run. No interval, timeout or cache age means anything past a century.
MAX_DURATION = timedelta(days=36500)


def _check_range(value: int | float, setting: Setting) -> None:
    """Refuse a number outside the setting's [minimum, maximum]."""
    if setting.minimum is not None and value < setting.minimum:
        raise Invalid(f"must be at least {setting.minimum}, got {value}")
    if setting.maximum is not None and value > setting.maximum:
        raise Invalid(f"must be at most {setting.maximum}, got {value}")


def _parse_bool(value: Any, setting: Setting, root: Path) -> bool:
    _expect(value, bool, "a boolean (true or false)", setting)
    return bool(value)


def _parse_path(value: Any, setting: Setting, root: Path) -> Path:
    _expect(value, str, "a path string", setting)
    if not str(value).strip():
        raise Invalid("the path is empty", f"e.g. {setting.name} = {EXAMPLES['path']}")
    path = Path(str(value)).expanduser()
    return Path(os.path.normpath(root / path))  # root / absolute path is just the absolute path


def _parse_dir(value: Any, setting: Setting, root: Path) -> Path:
    path = _parse_path(value, setting, root)
    if not path.exists():
        raise Invalid(f"folder {value!r} does not exist", f"create it or fix the path; looked for {path}")
    if not path.is_dir():
        raise Invalid(f"{value!r} is not a folder", f"{path} is a file: give the folder holding the files")
    return path


def _parse_duration(value: Any, setting: Setting, root: Path) -> timedelta:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and setting.bare_seconds:
        # Its old form, a number of seconds: still valid (a config written then must not break).
        try:
            duration = timedelta(seconds=value)
        except (OverflowError, ValueError):  # 1e300, nan, inf
            raise Invalid(
                f"{value!r} is too long", f"the maximum is {format_duration(MAX_DURATION)}"
            ) from None
        return _check_duration(value, duration, setting)
    if number:
        raise Invalid(
            f"expected a duration string, got {describe(value)}",
            f'add a unit: {setting.name} = "{value}s" (or "5m", "2h", "1d")',
        )
    if not isinstance(value, str):  # a boolean, a date, a list: quoting it would not make it a duration
        either = " or a number of seconds" if setting.bare_seconds else ""
        raise Invalid(
            f"expected a duration string{either}, got {describe(value)}", f'e.g. {setting.name} = "30s"'
        )
    try:
        duration = parse_duration(str(value))
    except OverflowError:  # "99999999999999999d": past what a timedelta holds
        raise Invalid(f"{value!r} is too long", f"the maximum is {format_duration(MAX_DURATION)}") from None
    except ValueError:
        raise Invalid(
            f"{value!r} is not a duration", 'write it like "30s", "5m", "2h", "1d" or "1h30m"'
        ) from None
    return _check_duration(value, duration, setting)


def _check_duration(value: Any, duration: timedelta, setting: Setting) -> timedelta:
    """Refuse a duration outside the setting's minimum and the century every duration fits in."""
    if setting.minimum is not None and duration < setting.minimum:
        raise Invalid(f"{value!r} is too short", f"the minimum is {format_duration(setting.minimum)}")
    if duration > MAX_DURATION:
        raise Invalid(f"{value!r} is too long", f"the maximum is {format_duration(MAX_DURATION)}")
    return duration


def _parse_choice(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, "a string", setting)
    if value in setting.choices:
        return str(value)
    allowed = f"{setting.name} must be one of: {', '.join(setting.choices)}"
    if setting.choices == SOURCE_KINDS and value in PLANNED_SOURCE_KINDS:
        raise Invalid(f"source kind {value!r} is not supported yet", allowed)
    close = difflib.get_close_matches(str(value), setting.choices, n=1)
    hint = f"did you mean {close[0]!r}? {allowed}" if close else allowed
    raise Invalid(f"unknown {setting.name} {value!r}", hint)


def _parse_number(value: Any, setting: Setting, root: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _expect(value, float, "a number", setting)
    _check_range(value, setting)
    return float(value)


def _parse_selectors(value: Any, setting: Setting, root: Path) -> dict[str, str]:
    _expect(value, dict, "a table of CSS selectors", setting)
    # Imported here: only configs with web sources pay for it.
    from cssselect import GenericTranslator, SelectorError

    problems: list[Invalid] = []
    result: dict[str, str] = {}
    for name, css in value.items():
        if name not in setting.choices:
            close = difflib.get_close_matches(name, setting.choices, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Invalid("unknown selector field", hint + "fields: " + ", ".join(setting.choices), at=(name,))
            )
            continue
        if not isinstance(css, str) or not css.strip():
            problems.append(
                Invalid(
                    f"expected a CSS selector string, got {describe(css)}", 'e.g. "h1.headline"', at=(name,)
                )
            )
            continue
        try:
            GenericTranslator().css_to_xpath(css)
        except SelectorError as exc:
            problems.append(
                Invalid(f"{css!r} is not a valid CSS selector: {exc}", 'e.g. "article h1"', at=(name,))
            )
            continue
        result[name] = css
    if problems:
        raise Invalids(problems)
    return result


def _parse_language_map(value: Any, setting: Setting, root: Path) -> dict[str, str]:
    _expect(value, dict, "a table", setting)
    problems: list[Invalid] = []
    result: dict[str, str] = {}
    for language, engine in value.items():
        try:
            _check_language(language)
            # Named "engine" so messages read "unknown engine 'x'" and "engine must be one of: ...".
            choice = Setting("engine", "choice", None, setting.help, setting.choices)
            result[language] = _parse_choice(engine, choice, root)
        except Invalid as exc:
            problems.append(Invalid(exc.message, exc.hint, at=(language,)))
    if problems:
        raise Invalids(problems)
    return result


def _parse_language_ratios(value: Any, setting: Setting, root: Path) -> dict[str, float]:
    _expect(value, dict, "a table", setting)
    problems: list[Invalid] = []
    result: dict[str, float] = {}
    for language, ratio in value.items():
        try:
            _check_language(language)
            if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
                raise Invalid(
                    f"expected a number from 0 to 1, got {describe(ratio)}", f"e.g. {language} = 0.2"
                )
            result[language] = float(ratio)
        except Invalid as exc:
            problems.append(Invalid(exc.message, exc.hint, at=(language,)))
    if problems:
        raise Invalids(problems)
    return result


def _parse_ratio_range(value: Any, setting: Setting, root: Path) -> tuple[float, float]:
    _expect(value, list, "a list [min, max]", setting)
    numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(value) != 2 or len(numbers) != 2 or not 0 <= numbers[0] < numbers[1]:
        raise Invalid(
            f"expected [min, max] with 0 <= min < max, got {describe(value)}",
            f"e.g. {setting.name} = {toml_literal(toml_form(setting.default))}",
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
        raise Invalid(
            f"{value!r} is not a database URL", 'e.g. url = "sqlite:///data/syndicator.db"'
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise Invalid(
            f"{value!r}: the store runs on SQLite or PostgreSQL, not {url.get_backend_name()}",
            'e.g. url = "postgresql+psycopg://syndicator@db.example.org/syndicator"',
        )
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return str(value)
    if database.startswith("file:") or Path(database).is_absolute():
        return str(value)
    # Only a relative SQLite path is rewritten, so other URLs keep the user's exact spelling.
    absolute = os.path.normpath(root / Path(database).expanduser())
    return url.set(database=absolute).render_as_string(hide_password=False)


# Bucket names as S3 allows them for new buckets (and MinIO and Ceph enforce): 3-63 lower-case letters,
# digits, dots and hyphens, starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
_CREDENTIALS_HINT = (
    "credentials never go in the config: boto3 reads them from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "AWS_PROFILE, ~/.aws/credentials or an instance role (docs/scale-out.md)"
)


def _parse_target(value: Any, setting: Setting, root: Path) -> str:
    _expect(value, str, 'a target string ("folder" or "s3://bucket/prefix")', setting)
    text = str(value).strip()
    if text == "folder":
        return text
    parts = urlsplit(text)
    if parts.scheme != "s3":
        raise Invalid(
            f"{text!r} is not a publish target",
            f'{setting.name} = "folder" (publish.feeds_dir) or "s3://bucket/prefix"',
        )
    if "@" in parts.netloc:
        raise Invalid(f"{setting.name} holds credentials", _CREDENTIALS_HINT)
    if parts.query or parts.fragment or not _BUCKET.match(parts.netloc) or ".." in parts.netloc:
        raise Invalid(
            f"{text!r}: {parts.netloc!r} is not a bucket name",
            "3-63 lower-case letters, digits, dots and hyphens, e.g. s3://news-feeds/feeds",
        )
    segments = [s for s in parts.path.split("/") if s]
    if any(s in (".", "..") or any(c in s for c in "\\\x00") for s in segments):
        raise Invalid(f"{text!r}: the prefix must be plain folder names", 'e.g. "s3://news-feeds/feeds"')
    if importlib.util.find_spec("boto3") is None:
        raise Invalid(
            f"{setting.name} is an S3 bucket but boto3 is not installed",
            "pip install 'syndicator[s3]' (or pip install boto3) in the service's environment",
        )
    return f"s3://{parts.netloc}" + "".join(f"/{s}" for s in segments)


def _parse_endpoint(value: Any, setting: Setting, root: Path) -> str:
    text = _parse_url(value, setting, root)
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise Invalid(f"{setting.name} holds credentials", _CREDENTIALS_HINT)
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise Invalid(
            f"{text!r}: an endpoint is a scheme, host and port only",
            "the bucket and prefix go in publish.target, e.g. s3://news-feeds/feeds",
        )
    return f"{parts.scheme}://{parts.netloc}"


PARSERS: dict[str, Callable[[Any, Setting, Path], Any]] = {
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
    "language_ratios": _parse_language_ratios,
    "target": _parse_target,
    "endpoint": _parse_endpoint,
}


def _check_language(code: str) -> None:
    """Raise Invalid, with close matches as the hint, unless Babel knows the code."""
    if not is_language(code):
        raise Invalid(f"unknown language {code!r}", language_hint(code))
