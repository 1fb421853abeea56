"""Finding, reading and parsing the config file, then validating it into a Config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from syndicator.config.files import read_toml
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
    validator = Validator(file, _instance_root(file), text)
    validator.apply_overrides(data, overrides or {})
    config = validator.build(data)
    validator.problems.raise_any()
    assert config is not None  # build() returns None only when it recorded problems
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
