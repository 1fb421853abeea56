"""Configuration: defaults, then config/syndicator.toml, then CLI overrides, validated once.

The settings table (syndicator/settings_table.py) drives validation, `settings_help()` and
`settings_markdown()` (docs/settings.md), so the three never disagree.
Regenerate the docs with: python -m syndicator.config > docs/settings.md

This package's public face: the rest of the service imports from here, not from its modules
(model: the Config dataclasses; load: load_config; validate: the walk; parsers: one per setting
kind; languages, durations, tomllines: helpers; docs: settings_markdown and settings_help; rejection: the
last config edit the service rejected, data/reload-error.json).
"""

from syndicator.config.docs import settings_help, settings_markdown
from syndicator.config.durations import format_duration, parse_duration
from syndicator.config.load import CONFIG_ENV, DEFAULT_CONFIG, load_config
from syndicator.config.model import (
    Config,
    HttpConfig,
    LanguagesConfig,
    PublishConfig,
    RunConfig,
    ServeConfig,
    SiteConfig,
    SourceConfig,
    StoreConfig,
    TranslationConfig,
)
from syndicator.config.rejection import RELOAD_ERROR_FILE, last_reload_error, problems_of, save_reload_error
from syndicator.settings_table import ENGINES, REQUIRED, SETTINGS, SOURCE_KINDS, SOURCE_SETTINGS, Setting

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ENGINES",
    "RELOAD_ERROR_FILE",
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
    "format_duration",
    "last_reload_error",
    "load_config",
    "parse_duration",
    "problems_of",
    "save_reload_error",
    "settings_help",
    "settings_markdown",
]
