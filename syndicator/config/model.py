"""The validated configuration: the section classes declared with their settings, and the whole Config.

Each section class (SiteConfig, HttpConfig, …) is declared in syndicator/settings_table.py, one field per
setting; this module adds the Config that holds one of each and derives what crosses sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from syndicator import settings_table as table


@dataclass(frozen=True, kw_only=True)
class Config:
    """The whole validated configuration of one instance: one field per [section] of settings_table.py."""

    root: Path  # the instance folder: the one that holds config/
    file: Path  # the config file it was read from
    site: table.SiteConfig
    languages: table.LanguagesConfig = field(default_factory=table.LanguagesConfig)
    translation: table.TranslationConfig = field(default_factory=table.TranslationConfig)
    publish: table.PublishConfig = field(default_factory=table.PublishConfig)
    store: table.StoreConfig = field(default_factory=table.StoreConfig)
    serve: table.ServeConfig = field(default_factory=table.ServeConfig)
    http: table.HttpConfig = field(default_factory=table.HttpConfig)
    run: table.RunConfig = field(default_factory=table.RunConfig)
    sources: tuple[table.SourceConfig, ...] = ()
    # The file's text as it was validated (load_config sets it): the running service records it as the config
    # it is on, so read-only commands still work from it while the file on disk is a broken edit.
    text: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        # Defaults that cross sections: serve.path follows site.feeds_url; a source's language the site's.
        if not self.serve.path:
            object.__setattr__(self, "serve", replace(self.serve, path=urlsplit(self.site.feeds_url).path))
        sources = tuple(s if s.language else replace(s, language=self.languages.source) for s in self.sources)
        object.__setattr__(self, "sources", sources)

    @property
    def partners_file(self) -> Path:
        """config/partners.toml: beside the config file, fixed name."""
        return self.file.parent / "partners.toml"
