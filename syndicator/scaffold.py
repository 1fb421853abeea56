"""`syndicator init DIR`: a new instance folder with a commented config, the catalogs and empty folders."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from syndicator.errors import SyndicatorError

FOLDERS = ("articles", "models", "feeds", "data")

CONFIG_TEMPLATE = """\
# Syndicator instance configuration. Every key, its type and default: docs/settings.md or `syndicator settings`.
# Relative paths resolve against this instance folder (the one holding config/).
# The running service (`syndicator run`) reloads this file when it changes; an invalid edit is rejected
# (see the log and `syndicator status`) and the previous configuration keeps running.

[site]
title = "Newsroom"                          # feed title; localized through locales/ where a catalog has it
link = "https://news.example.org/"          # public address of the site
# feeds_url = "https://news.example.org/feeds/"   # where feeds/ is served (default: link + "feeds/")
timezone = "UTC"                            # IANA zone of the dates readers see, e.g. "Asia/Tokyo"

[languages]
source = "en"                               # language the articles are written in
targets = ["fr", "es"]                      # languages to translate into and publish

[translation]
engine = "argos"                            # install models with: syndicator models install FILE.argosmodel
packages_dir = "models"
workers = 1                                 # translation units at once (each uses `threads` CPU threads)

[publish]
feeds_dir = "feeds"
max_entries = 50
locales_dir = "locales"

[store]
url = "sqlite:///data/syndicator.db"

[http]                                      # fetching feed and web sources
connect_timeout = "10s"
read_timeout = "30s"                        # each read; deadline bounds a whole fetch
deadline = "1m"

[run]
stop_timeout = "30s"                        # on SIGTERM, time for work under way (keep below TimeoutStopSec)

# One [[source]] per place articles come from. A "folder" source reads Markdown files with YAML front
# matter (title and date required) dropped into `path`.
[[source]]
name = "newsroom"
kind = "folder"
path = "articles"
every = "5m"                                # poll interval; jitter defaults to a tenth of it (max 30s)
"""


def packaged_locales() -> Path:
    """The gettext catalogs shipped inside the package (the repo's locales/, through a symlink)."""
    return Path(str(resources.files("syndicator") / "locales"))


def init_instance(directory: Path) -> list[Path]:
    """Create an instance in directory (new or empty); return what was created."""
    directory = directory.expanduser()
    config = directory / "config" / "syndicator.toml"
    if config.exists():
        raise SyndicatorError(
            f"{config} already exists", hint="init never overwrites an instance: pick a new or empty folder"
        )
    source = packaged_locales()
    if not (source / "en" / "LC_MESSAGES").is_dir():
        raise SyndicatorError(f"the package's catalogs are missing at {source}", hint="reinstall syndicator")
    created: list[Path] = []
    try:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        created.append(config)
        locales = directory / "locales"
        shutil.copytree(source, locales, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.mo", "README*"))
        created.append(locales)
        for name in FOLDERS:
            (directory / name).mkdir(exist_ok=True)
            created.append(directory / name)
    except OSError as exc:
        raise SyndicatorError(f"cannot create the instance in {directory}: {exc}") from exc
    return created
