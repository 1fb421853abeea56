"""The settings, each declared once: a field of its section's dataclass, carrying kind, default and help.

One `setting(...)` line is the whole declaration of a setting. From it come the typed, frozen config objects
(the classes below, handed as they are to the HTTP client, the engines and the server), validation
(config/validate.py walks `SETTINGS`), `--help` and docs/settings.md (config/docs.py). Adding a setting means
adding one line here, plus the code that uses it.

Defaults are Python values of the field's type; validation runs them through the same parser as a value from
the file (tests/test_settings_table.py checks every default parses to itself), and the docs show them in
their TOML spelling. A default computed from other settings is "" or None here, with `default_doc` saying
what it becomes (the class's `__post_init__`, or `Config.__post_init__` across sections, computes it).

This module imports nothing from the package: every layer may read it (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar


class _Required:
    """Sentinel type for settings without a default."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()

ENGINES: Final = ("argos", "apertium", "pseudo")
# Where translation units run (syndicator/runner.py): this process, or Celery workers (docs/scale-out.md).
RUNNER_NAMES: Final = ("in-process", "celery")
SOURCE_KINDS: Final = ("folder", "feed", "web")
# Kinds that are designed but not written yet: rejected with a friendlier message than a typo.
PLANNED_SOURCE_KINDS: Final[tuple[str, ...]] = ()
# Fields a web source's `selectors` table may override (CSS selectors, see docs/sources.md).
SELECTOR_FIELDS: Final = ("links", "title", "date", "author", "image", "body")
# Which symbolic links in a drop folder are followed: into the folder only, anywhere, or none.
SYMLINK_POLICIES: Final = ("inside", "anywhere", "never")
# Largest drop-folder file read (bytes): the folder source's default, and the cap on correction files.
MAX_FILE_BYTES: Final = 10_000_000
MAX_IMAGE_BYTES: Final = 5_000_000  # a news lead image is well under 1 MB; 5 MB allows a camera's JPEG

# Every kind a Setting may have, with the Python type its value has in the config objects;
# config/parsers.py has one parser per kind, and a test checks each field's annotation against this.
KINDS: Final[dict[str, str]] = {
    "str": "str",
    "url": "str",
    "timezone": "str",
    "language": "str",
    "languages": "tuple[str, ...]",
    "int": "int",
    "bool": "bool",
    "path": "Path",
    "dir": "Path",
    "duration": "timedelta",
    "choice": "str",
    "language_map": "Mapping[str, str]",
    "database": "str",
    "ratio_range": "tuple[float, float]",
    "urls": "tuple[str, ...]",
    "number": "float",
    "selectors": "Mapping[str, str]",
    "language_ratios": "Mapping[str, float]",
    "target": "str",
    "endpoint": "str",
}


@dataclass(frozen=True)
class Setting:
    """One setting as validation and the docs see it: dotted key, kind, default (or REQUIRED), help text."""

    key: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: Any = None  # int, float or timedelta, for "int", "number" and "duration"
    # The natural upper end, where one exists (a TCP port, a share): a value past it is refused at load with
    # the key named, instead of crashing the code that uses it (a bind() OverflowError).
    maximum: Any = None
    # Defaults computed from other settings are "" or None and describe themselves here.
    default_doc: str = ""
    # A "duration" that was once a number of seconds: a bare number is still read as seconds, so configs
    # written then stay valid (new ones use the duration form, like every other time-valued setting).
    bare_seconds: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: unknown kind {self.kind!r}")

    @property
    def name(self) -> str:
        """The last part of the key: what is written in the TOML table."""
        return self.key.rpartition(".")[2]

    @property
    def section(self) -> str:
        """The TOML table that holds it ('' for source settings)."""
        return self.key.rpartition(".")[0]

    @property
    def derived(self) -> bool:
        """Whether its default is computed from other settings (so a missing value is left to the class)."""
        return bool(self.default_doc)


_ROW: Final = "syndicator.setting"  # the dataclass field metadata key holding a setting's row


def setting(
    kind: str,
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: Any = None,
    maximum: Any = None,
    default_doc: str = "",
    bare_seconds: bool = False,
) -> Any:
    """Declare one setting as a dataclass field (typed Any so `x: int = setting(...)` checks, as field() does)."""
    row = Setting("", kind, default, help, choices, minimum, maximum, default_doc, bare_seconds)
    metadata = {_ROW: row}
    if default is REQUIRED:
        return field(metadata=metadata)
    if isinstance(default, dict):
        return field(default_factory=lambda: MappingProxyType(dict(default)), metadata=metadata)
    return field(default=default, metadata=metadata)


T = TypeVar("T")
SECTIONS: dict[str, type] = {}  # TOML table name -> its class, in declaration (and docs) order
_SETTINGS_OF: dict[type, tuple[Setting, ...]] = {}


def section(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator (over @dataclass): register the class as the [name] table; "" for a [[source]]'s keys."""

    def register(cls: type[T]) -> type[T]:
        _SETTINGS_OF[cls] = rows_of(cls, name)
        if name:
            SECTIONS[name] = cls
        return cls

    return register


def rows_of(cls: type, prefix: str) -> tuple[Setting, ...]:
    """The Settings declared as fields of a dataclass, keyed `prefix.field` (or just `field`)."""
    rows = []
    for f in dataclasses.fields(cls):
        row = f.metadata.get(_ROW)
        if row is None:
            continue  # a field that is not a setting (e.g. a source's kind-specific options)
        key = f"{prefix}.{f.name}" if prefix else f.name
        rows.append(dataclasses.replace(row, key=key))
    return tuple(rows)


def settings_of(cls: type) -> tuple[Setting, ...]:
    """The Settings of a registered section class."""
    return _SETTINGS_OF[cls]


class Section:
    """Base of the config classes: what a value is built from becomes read-only (lists, tables)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
            elif isinstance(value, dict):
                object.__setattr__(self, f.name, MappingProxyType(dict(value)))


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


@section("site")
@dataclass(frozen=True, kw_only=True)
class SiteConfig(Section):
    """[site]: how the site and its feeds present themselves."""

    title: str = setting("str", "Newsroom", "Name of the site: the feed title.")
    link: str = setting("url", REQUIRED, "Public http(s) address of the site: the feed's link.")
    feeds_url: str = setting(
        "url",
        "",
        "Public http(s) address where the feeds folder is served; a trailing '/' is added.",
        default_doc='site.link + "feeds/"',
    )
    timezone: str = setting("timezone", "UTC", "IANA time zone of the dates readers see, e.g. Asia/Tokyo.")
    author: str = setting("str", "", "Author named in the feeds.", default_doc="site.title")

    def __post_init__(self) -> None:
        super().__post_init__()
        # Derived defaults live here too, so hand-built configs (tests) behave like loaded ones.
        if not self.feeds_url:
            object.__setattr__(self, "feeds_url", _with_slash(self.link) + "feeds/")
        object.__setattr__(self, "feeds_url", _with_slash(self.feeds_url))
        if not self.author:
            object.__setattr__(self, "author", self.title)


@section("languages")
@dataclass(frozen=True, kw_only=True)
class LanguagesConfig(Section):
    """[languages]: the language articles are written in and the ones to publish."""

    source: str = setting("language", "en", "Language of the articles, unless their source says.")
    targets: tuple[str, ...] = setting(
        "languages",
        (),
        "Languages to translate into and publish feeds for; must not include the source language.",
    )

    @property
    def all(self) -> tuple[str, ...]:
        """The source language then every target, without duplicates."""
        return tuple(dict.fromkeys((self.source, *self.targets)))


@section("translation")
@dataclass(frozen=True, kw_only=True)
class TranslationConfig(Section):
    """[translation]: engines and their tuning (handed to the engines as it is, in EngineOptions)."""

    engine: str = setting("choice", "argos", "Translation engine used by default.", choices=ENGINES)
    packages_dir: Path = setting("path", Path("models"), "Folder holding the offline translation models.")
    engines: Mapping[str, str] = setting(
        "language_map",
        {},
        'Engine per target language, overriding translation.engine, e.g. es = "apertium".',
        choices=ENGINES,
    )
    beam_size: int = setting(
        "int",
        2,
        "Beam size: higher is slower, sometimes better (argostranslate's own default is 4).",
        minimum=1,
    )
    batch_size: int = setting(
        "int",
        64,
        "Sentences translated between two saves to the translation memory; also sentences per model call for "
        "engines that do not batch by tokens (Apertium).",
        minimum=1,
    )
    batch_tokens: int = setting(
        "int",
        1536,
        "Argos: source tokens per model batch, padding included (sentences × the longest). Sentences are "
        "sorted by length, cut into such batches, and each CTranslate2 worker takes the next one as it "
        "finishes (tuned by bench/translate_throughput.py).",
        minimum=1,
    )
    threads: int = setting(
        "int",
        2,
        "CPU cores for translation: one single-threaded CTranslate2 worker each (set to the core count).",
        minimum=1,
    )
    workers: int = setting(
        "int",
        1,
        "Translation units run at once by the service (each uses translation.threads CPU threads).",
        minimum=1,
    )
    pivot: str = setting(
        "language", "en", "Language to translate through when no direct model exists for a pair."
    )
    corrections_dir: Path = setting(
        "path",
        Path("corrections"),
        "Folder of human-corrected translations: <lang>/<source>/<id>.md (need not exist).",
    )
    retry_after: timedelta = setting(
        "duration",
        timedelta(minutes=10),
        "Wait before retrying a failed translation (a crash, a full disk); doubles with each failure, at most a "
        "day. 0s: next cycle. Refusals by the quality gate wait for a change instead (docs/translation-quality.md).",
        minimum=timedelta(0),
    )
    length_ratio: tuple[float, float] = setting(
        "ratio_range",
        (0.02, 4.0),
        "Quality gate: [min, max] of translated/source length; outside it a translation fails.",
    )
    length_ratio_to_cjk: tuple[float, float] = setting(
        "ratio_range",
        (0.01, 2.0),
        "The same bounds when translating into Chinese, Japanese or Korean (far fewer characters).",
    )
    length_ratio_from_cjk: tuple[float, float] = setting(
        "ratio_range", (0.05, 12.0), "The same bounds when translating from Chinese, Japanese or Korean."
    )
    max_unknown_ratio: float = setting(
        "number",
        0.1,
        "Quality gate: the largest share of an article's words the engine may mark as unknown or "
        "untranslatable (Apertium's *, #, @); above it the translation fails.",
        minimum=0,
        maximum=1,
    )
    max_unknown_ratios: Mapping[str, float] = setting(
        "language_ratios",
        {},
        "The same bound per target language, overriding translation.max_unknown_ratio, e.g. hr = 0.2.",
    )
    protect_names: bool = setting(
        "bool",
        True,
        "Keep names beyond the glossary as written: after honorifics (Ms. Grace Long), acronyms (OHA), "
        "capitalised multi-word names in mid-sentence.",
    )
    index_url: str = setting(
        "url",
        "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json",
        "Argos package index used by `syndicator models install --online`.",
    )

    def engine_for(self, language: str) -> str:
        """The engine that translates into `language`."""
        return self.engines.get(language, self.engine)

    def max_unknown_for(self, language: str) -> float:
        """The unknown-word bound for a target language."""
        base = language.split("-")[0]
        for code in (language, base):
            if code in self.max_unknown_ratios:
                return self.max_unknown_ratios[code]
        return self.max_unknown_ratio


@section("publish")
@dataclass(frozen=True, kw_only=True)
class PublishConfig(Section):
    """[publish]: where and how much to write."""

    target: str = setting(
        "target",
        "folder",
        'Where the published files go: "folder" (publish.feeds_dir) or "s3://bucket/prefix" (object storage; '
        "credentials from the standard AWS chain, never from this file: docs/scale-out.md).",
    )
    feeds_dir: Path = setting(
        "path", Path("feeds"), 'Folder the feeds are written to (publish.target = "folder").'
    )
    s3_endpoint: str = setting(
        "endpoint",
        "",
        "Endpoint of an S3-compatible service (MinIO, Ceph RGW…), e.g. https://minio.example.org:9000.",
        default_doc="AWS S3",
    )
    s3_region: str = setting(
        "str", "", "Region of the bucket.", default_doc="AWS_REGION / the AWS config file, else us-east-1"
    )
    s3_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "Time each object-storage request may take to connect, and then between reads.",
        minimum=timedelta(seconds=1),
    )
    s3_retries: int = setting(
        "int",
        4,
        "Extra attempts of an object-storage request after a timeout, a dropped connection, 5xx or throttling.",
        minimum=0,
    )
    max_entries: int = setting("int", 50, "Most recent entries kept in each feed.", minimum=1)
    locales_dir: Path = setting(
        "path",
        Path("locales"),
        "Folder with the translated interface strings (Babel catalogs) used in feeds.",
    )

    @property
    def location(self) -> str:
        """Where publishing writes, for messages: the feeds folder or the s3:// URL."""
        return str(self.feeds_dir) if self.target == "folder" else self.target


@section("store")
@dataclass(frozen=True, kw_only=True)
class StoreConfig(Section):
    """[store]: the article database."""

    url: str = setting(
        "database",
        "sqlite:///data/syndicator.db",
        "SQLAlchemy URL of the store: SQLite (a relative path is relative to the instance folder) or PostgreSQL "
        "(postgresql+psycopg://user@host/db, docs/scale-out.md); `syndicator migrate` creates or upgrades it.",
    )


@section("serve")
@dataclass(frozen=True, kw_only=True)
class ServeConfig(Section):
    """[serve]: the built-in HTTP server (syndicator serve, and inside syndicator run), caching, WebSub hubs."""

    enabled: bool = setting("bool", True, "Start the built-in HTTP server inside `syndicator run`.")
    host: str = setting("str", "127.0.0.1", "Address the built-in server listens on.")
    port: int = setting(
        "int", 8080, "TCP port of the built-in server (0 picks a free one).", minimum=0, maximum=65535
    )
    path: str = setting(
        "str",
        "",
        "URL path the feeds folder is served under, e.g. /feeds/.",
        default_doc="the path of site.feeds_url",
    )
    max_age: timedelta = setting(
        "duration",
        timedelta(minutes=5),
        "How long clients and proxies may reuse a feed (Cache-Control max-age).",
        minimum=timedelta(0),
    )
    archive_max_age: timedelta = setting(
        "duration",
        timedelta(hours=1),
        "Cache-Control max-age of RFC 5005 archive pages (<lang>/archive/<n>/…), whose entries are settled.",
        minimum=timedelta(0),
    )
    hubs: tuple[str, ...] = setting(
        "urls",
        (),
        "WebSub hubs: advertised in every feed (rel=hub) and pinged after each publish that changed a feed.",
    )
    refresh: timedelta = setting(
        "duration",
        timedelta(seconds=2),
        "How long the built-in server trusts a file it read from object storage (or, where the feeds folder "
        "cannot be watched, from disk) before asking whether it changed.",
        minimum=timedelta(seconds=1),
    )
    partner_refresh: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "How long a built partner feed is reused before it is rebuilt from the store.",
        minimum=timedelta(seconds=1),
    )
    stale_after: timedelta = setting(
        "duration",
        timedelta(days=1),
        "`syndicator partners` flags a partner whose last pull is older than this.",
        minimum=timedelta(minutes=1),
    )
    brotli: bool = setting("bool", True, "Also keep a brotli-compressed copy of each file in memory.")
    cache_bytes: int = setting(
        "int",
        64 * 1024 * 1024,
        "Most bytes of published files (with their compressed copies) the built-in server keeps in memory; the "
        "least recently requested go first.",
        minimum=1024 * 1024,
    )
    gzip_files: bool = setting(
        "bool",
        False,
        "Write a .gz copy beside each published file, for nginx gzip_static (see syndicator nginx-config).",
    )
    max_connections: int = setting(
        "int",
        0,
        "Most connections served at once; at the cap a new connection closes the one that has waited longest "
        "for a request, or gets 503 when all are busy. 0: derived from the open-file limit (LimitNOFILE) at "
        "start-up; a larger value is lowered to that.",
        minimum=0,
    )
    max_header_bytes: int = setting(
        "int",
        16384,
        "Largest request line and headers (bytes); a bigger request gets 431 and is closed unread.",
        minimum=1024,
    )
    max_headers: int = setting("int", 100, "Most header fields in one request; more get 431.", minimum=8)
    header_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=10),
        "Time a client has to send a request's headers, from connecting or from the first byte of a request.",
        minimum=timedelta(seconds=1),
    )
    keepalive_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=15),
        "How long an idle keep-alive connection is kept open between requests.",
        minimum=timedelta(seconds=1),
    )
    send_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "A response whose bytes the client stops reading for this long is aborted.",
        minimum=timedelta(seconds=1),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        # "" stays "" until Config derives it from site.feeds_url; anything else gets one leading and
        # trailing "/".
        if self.path:
            stripped = self.path.strip("/")
            object.__setattr__(self, "path", "/" + stripped + "/" if stripped else "/")


@section("http")
@dataclass(frozen=True, kw_only=True)
class HttpConfig(Section):
    """[http]: how upstream servers are fetched (handed to syndicator.http.HttpClient as it is)."""

    # Time-valued, like every other such setting: durations ("10s"). They were numbers of seconds before,
    # and a bare number still is (bare_seconds), so no config written then breaks.
    connect_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=10),
        "Time to wait for a connection to an upstream server.",
        minimum=timedelta(milliseconds=10),
        bare_seconds=True,
    )
    read_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "Time to wait for each read from an upstream server.",
        minimum=timedelta(milliseconds=10),
        bare_seconds=True,
    )
    max_bytes: int = setting(
        "int",
        20_000_000,
        "Largest response accepted (bytes); bigger ones are cut off and reported.",
        minimum=1024,
    )
    deadline: timedelta = setting(
        "duration",
        timedelta(seconds=60),
        "Most time one fetch may take in all (connection, headers, body and retries), however steadily "
        "the server sends; a slower answer is cut off and reported.",
        minimum=timedelta(seconds=1),
        bare_seconds=True,
    )
    max_redirects: int = setting("int", 5, "Most redirects followed for one request.", minimum=0)
    retries: int = setting("int", 2, "Retries of one request after a timeout, a 5xx or a 429.", minimum=0)
    backoff: timedelta = setting(
        "duration",
        timedelta(seconds=1),
        "Pause before the first retry; doubled each time, plus jitter.",
        minimum=timedelta(0),
        bare_seconds=True,
    )
    max_wait: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "Longest Retry-After waited inside one poll; longer ones postpone the source's next poll.",
        minimum=timedelta(0),
        bare_seconds=True,
    )
    max_backoff: timedelta = setting(
        "duration",
        timedelta(hours=6),
        "Longest pause of a failing source: it is retried after every, 2×every, 4×every… up to this.",
        minimum=timedelta(seconds=10),
    )
    max_pages: int = setting("int", 30, "Most article pages a web source fetches per poll.", minimum=1)


@section("run")
@dataclass(frozen=True, kw_only=True)
class RunConfig(Section):
    """[run]: how the service behaves as a process."""

    stop_timeout: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "On SIGTERM, how long work under way may take to finish before it is abandoned (redone on restart).",
        minimum=timedelta(seconds=1),
    )
    runner: str = setting(
        "choice",
        "in-process",
        "Where translation runs: in-process (this process, translation.workers units at a time) or celery "
        "(tasks on a queue per language pair, run by `syndicator worker`; docs/scale-out.md).",
        choices=RUNNER_NAMES,
    )
    broker: str = setting(
        "str",
        "",
        'Message broker of the celery runner, e.g. "amqp://syndicator:SECRET@mq.example.org/syndicator" '
        "(RabbitMQ); required when run.runner = celery.",
    )
    failover: timedelta = setting(
        "duration",
        timedelta(seconds=30),
        "With several `syndicator run` on one PostgreSQL store: at most how long after the scheduling one "
        "dies a standby takes over polling and scheduling.",
        minimum=timedelta(seconds=3),
    )
    publish_delay: timedelta = setting(
        "duration",
        timedelta(seconds=5),
        "Celery runner: a language is published this long after the first translation that asked for it, "
        "so a burst of translations publishes once.",
        minimum=timedelta(0),
    )
    watch: bool = setting(
        "bool",
        True,
        "Watch drop folders and the corrections folder for file-system events (inotify), so a new or changed "
        "file is processed within seconds; scheduled polls go on as the safety net. false: polls only.",
    )
    settle: timedelta = setting(
        "duration",
        timedelta(seconds=1),
        "A watched file is read once its size and modification time have held still this long, so a copy "
        "under way is never read half-written.",
        minimum=timedelta(0),
    )
    task_wait: timedelta = setting(
        "duration",
        timedelta(minutes=10),
        "Celery runner: how long a translate pass waits for its tasks; tasks still queued then go on, and "
        "their workers have their languages published.",
        minimum=timedelta(seconds=1),
    )


@section("")
@dataclass(frozen=True, kw_only=True)
class SourceConfig(Section):
    """One [[source]]: the keys every source has, and its kind's own keys (validated) in `options`."""

    name: str = setting("str", REQUIRED, "Unique name of the source, used in the store and in messages.")
    kind: str = setting("choice", REQUIRED, "What the source reads.", choices=SOURCE_KINDS)
    every: timedelta = setting(
        "duration",
        timedelta(minutes=5),
        "How often to read it: 30s, 5m, 2h, 1d, 1h30m (at least 10s).",
        minimum=timedelta(seconds=10),
    )
    jitter: timedelta | None = setting(
        "duration",
        None,
        "Random delay added to each poll so sources polled at the same interval spread out.",
        default_doc="a tenth of every, at most 30s",
    )
    language: str = setting("language", "", "Language of its articles.", default_doc="languages.source")
    enabled: bool = setting("bool", True, "Set to false to stop reading it without deleting it.")
    max_body_bytes: int = setting(
        "int",
        1_000_000,
        "Largest article body (bytes of sanitized HTML after extraction); a longer article is reported "
        "and not stored.",
        minimum=1024,
    )
    # The kind's keys (SOURCE_OPTIONS below), validated; paths absolute. A mapping, not fields: each
    # source kind reads its own.
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.jitter is None:
            object.__setattr__(self, "jitter", min(timedelta(seconds=30), self.every / 10))


# The keys of each source kind, in a [[source]] beside the common ones; they reach the source as
# `SourceConfig.options[name]`.
_DETECT_LANGUAGE = Setting(
    "detect_language",
    "bool",
    False,
    "Detect each article's language from its text (py3langid); the source's language is the fallback.",
)
SOURCE_OPTIONS: dict[str, tuple[Setting, ...]] = {
    "folder": (
        Setting("path", "dir", REQUIRED, "Folder of article files to read; it must exist."),
        Setting(
            "max_file_bytes",
            "int",
            MAX_FILE_BYTES,
            "Largest file read from the folder (bytes); a bigger one is reported and not read.",
            minimum=1024,
        ),
        Setting(
            "max_image_bytes",
            "int",
            MAX_IMAGE_BYTES,
            "Largest lead image an article names by a path beside it (image: images/ferry.jpg), in bytes; "
            "a bigger one is reported and the article stored without it.",
            minimum=1024,
        ),
        Setting(
            "symlinks",
            "choice",
            "inside",
            "Symbolic links followed: inside (target within the folder), anywhere, or never.",
            choices=SYMLINK_POLICIES,
        ),
        Setting(
            "watch",
            "bool",
            True,
            "Pick up new and changed files within seconds through file-system events (with run.watch); "
            "false: only on schedule (e.g. a network mount whose other writers send no events).",
        ),
    ),
    "feed": (Setting("url", "url", REQUIRED, "Address of the RSS or Atom feed."), _DETECT_LANGUAGE),
    "web": (
        Setting("url", "url", REQUIRED, "Address of the listing page that links to the articles."),
        Setting(
            "selectors",
            "selectors",
            {},
            "CSS selectors overriding automatic extraction: links, title, date, author, image, body.",
            choices=SELECTOR_FIELDS,
        ),
        _DETECT_LANGUAGE,
    ),
}

# Derived views, for validation and the docs.
SETTINGS: Final[tuple[Setting, ...]] = tuple(s for cls in SECTIONS.values() for s in settings_of(cls))
SOURCE_SETTINGS: Final[dict[str, tuple[Setting, ...]]] = {"*": settings_of(SourceConfig), **SOURCE_OPTIONS}

EXAMPLE_TOML: Final = """\
[site]
title = "Newsroom"
link = "https://news.example.org/"
timezone = "Asia/Shanghai"

[languages]
source = "en"
targets = ["fr", "es", "ar", "zh", "ru"]

[translation.engines]
es = "apertium"

[[source]]
name = "newsroom"
kind = "folder"
path = "articles"
every = "5m"
"""
