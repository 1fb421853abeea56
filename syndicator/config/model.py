"""The validated configuration: frozen dataclasses handed to the rest of the service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any


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
    runner: str = "in-process"  # syndicator/runner.py: in-process or celery
    broker: str = ""  # the celery runner's broker URL
    failover: timedelta = timedelta(seconds=30)  # a standby scheduler takes over within this
    publish_delay: timedelta = timedelta(seconds=5)  # debounce of the celery runner's publish task
    task_wait: timedelta = timedelta(minutes=10)  # how long a pass waits for the tasks it queued


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
    max_connections: int = 0  # 0: derived from the open-file limit (serve/guard.py)
    max_header_bytes: int = 16384
    max_headers: int = 100
    header_timeout: timedelta = timedelta(seconds=10)
    keepalive_timeout: timedelta = timedelta(seconds=15)
    send_timeout: timedelta = timedelta(seconds=30)

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
