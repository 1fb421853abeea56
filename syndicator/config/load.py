"""Finding, reading and parsing the config file, then validating it into a Config."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syndicator.config.model import Config
from syndicator.config.validate import Validator
from syndicator.errors import ConfigError

CONFIG_ENV = "SYNDICATOR_CONFIG"
DEFAULT_CONFIG = Path("config") / "syndicator.toml"


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
    validator = Validator(file, _instance_root(file), text)
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
