"""Finding, reading and parsing the config file, then validating it into a Config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from syndicator.config.files import parse_toml, read_toml
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
    try:
        text, data = read_toml(file)
    except FileNotFoundError:  # removed between the check above and the read
        raise ConfigError("config file not found", file=file, hint="check the path") from None
    return _validated(file, text, data, overrides or {})


def load_config_text(file: Path, text: str, overrides: Mapping[str, str] | None = None) -> Config:
    """Validate config text that was read from `file` before (the running service's config in force, as it
    recorded it): the same checks as load_config, against the instance folder the file is in."""
    return _validated(file, text, parse_toml(text, file), overrides or {})


def _validated(file: Path, text: str, data: dict[str, Any], overrides: Mapping[str, str]) -> Config:
    validator = Validator(file, instance_root(file), text)
    validator.apply_overrides(data, overrides)
    config = validator.build(data)
    validator.problems.raise_any()
    assert config is not None  # build() returns None only when it recorded problems
    # The text validated, kept so the service can record the config it runs on (config/rejection.py).
    return replace(config, text=text)


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


def instance_root(file: Path) -> Path:
    """The folder that holds config/ (or the file's own folder when it is not in a config/ folder)."""
    return file.parent.parent if file.parent.name == "config" else file.parent
