"""Configuration: defaults, then config/syndicator.toml, then CLI overrides, validated once.

Each setting is declared once, as a field of its section's class in syndicator/settings_table.py; validation,
`settings_help()`, `settings_markdown()` (docs/settings.md) and the Config objects all come from those fields.
Regenerate the docs with: python -m syndicator.config > docs/settings.md

This package's public face: the rest of the service imports from here, not from its modules
(model: the Config dataclasses; load: load_config; validate: the walk; parsers: one per setting
kind; files: reading a TOML file and reporting its problems, for the glossary and partners files too;
languages, durations, tomllines: helpers; docs: settings_markdown and settings_help; rejection: the
config the running service is on and the last edit it rejected, data/config-in-force.json and
data/reload-error.json).
"""

from syndicator.config.docs import settings_help, settings_markdown
from syndicator.config.durations import format_duration, parse_duration
from syndicator.config.load import CONFIG_ENV, DEFAULT_CONFIG, load_config, load_config_text
from syndicator.config.model import Config
from syndicator.config.rejection import (
    IN_FORCE_FILE,
    RELOAD_ERROR_FILE,
    InForce,
    config_in_force,
    forget_config_in_force,
    last_reload_error,
    problems_of,
    record_config_in_force,
    save_reload_error,
)
from syndicator.settings_table import (
    ENGINES,
    REQUIRED,
    SETTINGS,
    SOURCE_KINDS,
    SOURCE_SETTINGS,
    HttpConfig,
    LanguagesConfig,
    PublishConfig,
    RunConfig,
    ServeConfig,
    Setting,
    SiteConfig,
    SourceConfig,
    StoreConfig,
    TranslationConfig,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ENGINES",
    "IN_FORCE_FILE",
    "RELOAD_ERROR_FILE",
    "REQUIRED",
    "SETTINGS",
    "SOURCE_KINDS",
    "SOURCE_SETTINGS",
    "Config",
    "HttpConfig",
    "InForce",
    "LanguagesConfig",
    "PublishConfig",
    "RunConfig",
    "ServeConfig",
    "Setting",
    "SiteConfig",
    "SourceConfig",
    "StoreConfig",
    "TranslationConfig",
    "config_in_force",
    "forget_config_in_force",
    "format_duration",
    "last_reload_error",
    "load_config",
    "load_config_text",
    "parse_duration",
    "problems_of",
    "record_config_in_force",
    "save_reload_error",
    "settings_help",
    "settings_markdown",
]
