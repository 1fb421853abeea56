"""The settings table: one row per setting drives validation, `--help` and docs/settings.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final


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

# Every kind a Setting may have; config/parsers.py has one parser per kind.
KINDS: Final = (
    "str",
    "url",
    "timezone",
    "language",
    "languages",
    "int",
    "bool",
    "path",
    "dir",
    "duration",
    "choice",
    "language_map",
    "database",
    "ratio_range",
    "urls",
    "number",
    "selectors",
)


@dataclass(frozen=True)
class Setting:
    """One setting: its dotted key, kind, default (in TOML form, or REQUIRED) and help text."""

    key: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: Any = None  # int or timedelta, for "int" and "duration"
    # Defaults computed from other settings have default=None and describe themselves here.
    default_doc: str = ""

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


SETTINGS: tuple[Setting, ...] = (
    Setting("site.title", "str", "Newsroom", "Name of the site: the feed title."),
    Setting("site.link", "url", REQUIRED, "Public http(s) address of the site: the feed's link."),
    Setting(
        "site.feeds_url",
        "url",
        None,
        "Public http(s) address where the feeds folder is served; a trailing '/' is added.",
        default_doc='site.link + "feeds/"',
    ),
    Setting("site.timezone", "timezone", "UTC", "IANA time zone of the dates readers see, e.g. Asia/Tokyo."),
    Setting("site.author", "str", None, "Author named in the feeds.", default_doc="site.title"),
    Setting("languages.source", "language", "en", "Language of the articles, unless their source says."),
    Setting(
        "languages.targets",
        "languages",
        (),
        "Languages to translate into and publish feeds for; must not include the source language.",
    ),
    Setting("translation.engine", "choice", "argos", "Translation engine used by default.", choices=ENGINES),
    Setting("translation.packages_dir", "path", "models", "Folder holding the offline translation models."),
    Setting(
        "translation.engines",
        "language_map",
        {},
        'Engine per target language, overriding translation.engine, e.g. es = "apertium".',
        choices=ENGINES,
    ),
    Setting(
        "translation.beam_size",
        "int",
        2,
        "Beam size: higher is slower, sometimes better (argostranslate's own default is 4).",
        minimum=1,
    ),
    Setting(
        "translation.batch_size",
        "int",
        64,
        "Sentences per model call, shared among the threads; the translation memory is saved after each call.",
        minimum=1,
    ),
    Setting(
        "translation.threads",
        "int",
        2,
        "CPU cores for translation: one single-threaded CTranslate2 worker each (set to the core count).",
        minimum=1,
    ),
    Setting(
        "translation.workers",
        "int",
        1,
        "Translation units run at once by the service (each uses translation.threads CPU threads).",
        minimum=1,
    ),
    Setting(
        "translation.pivot",
        "language",
        "en",
        "Language to translate through when no direct model exists for a pair.",
    ),
    Setting(
        "translation.corrections_dir",
        "path",
        "corrections",
        "Folder of human-corrected translations: <lang>/<source>/<id>.md (need not exist).",
    ),
    Setting(
        "translation.retry_after",
        "duration",
        "10m",
        "Wait before retrying a failed translation; doubles with each failure, at most a day. 0s: next cycle.",
        minimum=timedelta(0),
    ),
    Setting(
        "translation.length_ratio",
        "ratio_range",
        [0.02, 4.0],
        "Quality gate: [min, max] of translated/source length; outside it a translation fails.",
    ),
    Setting(
        "translation.length_ratio_to_cjk",
        "ratio_range",
        [0.01, 2.0],
        "The same bounds when translating into Chinese, Japanese or Korean (far fewer characters).",
    ),
    Setting(
        "translation.length_ratio_from_cjk",
        "ratio_range",
        [0.05, 12.0],
        "The same bounds when translating from Chinese, Japanese or Korean.",
    ),
    Setting(
        "translation.index_url",
        "url",
        "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json",
        "Argos package index used by `syndicator models install --online`.",
    ),
    Setting("publish.feeds_dir", "path", "feeds", "Folder the feeds are written to."),
    Setting("publish.max_entries", "int", 50, "Most recent entries kept in each feed.", minimum=1),
    Setting(
        "publish.locales_dir",
        "path",
        "locales",
        "Folder with the translated interface strings (Babel catalogs) used in feeds.",
    ),
    Setting(
        "store.url",
        "database",
        "sqlite:///data/syndicator.db",
        "SQLAlchemy URL of the store: SQLite (a relative path is relative to the instance folder) or PostgreSQL "
        "(postgresql+psycopg://user@host/db, docs/scale-out.md); `syndicator migrate` creates or upgrades it.",
    ),
    # [serve]: the built-in HTTP server (syndicator serve, and inside syndicator run).
    Setting("serve.enabled", "bool", True, "Start the built-in HTTP server inside `syndicator run`."),
    Setting("serve.host", "str", "127.0.0.1", "Address the built-in server listens on."),
    Setting("serve.port", "int", 8080, "TCP port of the built-in server (0 picks a free one).", minimum=0),
    Setting(
        "serve.path",
        "str",
        None,
        "URL path the feeds folder is served under, e.g. /feeds/.",
        default_doc="the path of site.feeds_url",
    ),
    Setting(
        "serve.max_age",
        "duration",
        "5m",
        "How long clients and proxies may reuse a feed (Cache-Control max-age).",
        minimum=timedelta(0),
    ),
    Setting(
        "serve.hubs",
        "urls",
        (),
        "WebSub hubs: advertised in every feed (rel=hub) and pinged after each publish that changed a feed.",
    ),
    Setting(
        "serve.refresh",
        "duration",
        "2s",
        "How often the server looks for newly published files (a cheap stat of each file).",
        minimum=timedelta(seconds=1),
    ),
    Setting(
        "serve.partner_refresh",
        "duration",
        "30s",
        "How long a built partner feed is reused before it is rebuilt from the store.",
        minimum=timedelta(seconds=1),
    ),
    Setting(
        "serve.stale_after",
        "duration",
        "1d",
        "`syndicator partners` flags a partner whose last pull is older than this.",
        minimum=timedelta(minutes=1),
    ),
    Setting("serve.brotli", "bool", True, "Also keep a brotli-compressed copy of each file in memory."),
    Setting(
        "serve.gzip_files",
        "bool",
        False,
        "Write a .gz copy beside each published file, for nginx gzip_static (see syndicator nginx-config).",
    ),
    Setting(
        "serve.max_connections",
        "int",
        0,
        "Most connections served at once; at the cap a new connection closes the one that has waited longest "
        "for a request, or gets 503 when all are busy. 0: derived from the open-file limit (LimitNOFILE) at "
        "start-up; a larger value is lowered to that.",
        minimum=0,
    ),
    Setting(
        "serve.max_header_bytes",
        "int",
        16384,
        "Largest request line and headers (bytes); a bigger request gets 431 and is closed unread.",
        minimum=1024,
    ),
    Setting(
        "serve.max_headers",
        "int",
        100,
        "Most header fields in one request; more get 431.",
        minimum=8,
    ),
    Setting(
        "serve.header_timeout",
        "duration",
        "10s",
        "Time a client has to send a request's headers, from connecting or from the first byte of a request.",
        minimum=timedelta(seconds=1),
    ),
    Setting(
        "serve.keepalive_timeout",
        "duration",
        "15s",
        "How long an idle keep-alive connection is kept open between requests.",
        minimum=timedelta(seconds=1),
    ),
    Setting(
        "serve.send_timeout",
        "duration",
        "30s",
        "A response whose bytes the client stops reading for this long is aborted.",
        minimum=timedelta(seconds=1),
    ),
    Setting(
        "http.connect_timeout",
        "number",
        10,
        "Seconds to wait for a connection to an upstream server.",
        minimum=0.01,
    ),
    Setting(
        "http.read_timeout",
        "number",
        30,
        "Seconds to wait for each read from an upstream server.",
        minimum=0.01,
    ),
    Setting(
        "http.max_bytes",
        "int",
        20_000_000,
        "Largest response accepted (bytes); bigger ones are cut off and reported.",
        minimum=1024,
    ),
    Setting("http.max_redirects", "int", 5, "Most redirects followed for one request.", minimum=0),
    Setting("http.retries", "int", 2, "Retries of one request after a timeout, a 5xx or a 429.", minimum=0),
    Setting(
        "http.backoff",
        "number",
        1,
        "Seconds before the first retry; doubled each time, plus jitter.",
        minimum=0,
    ),
    Setting(
        "http.max_wait",
        "number",
        30,
        "Longest Retry-After (seconds) waited inside one poll; longer ones postpone the source's next poll.",
        minimum=0,
    ),
    Setting(
        "http.max_backoff",
        "duration",
        "6h",
        "Longest pause of a failing source: it is retried after every, 2×every, 4×every… up to this.",
        minimum=timedelta(seconds=10),
    ),
    Setting("http.max_pages", "int", 30, "Most article pages a web source fetches per poll.", minimum=1),
)

RUN_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "run.stop_timeout",
        "duration",
        "30s",
        "On SIGTERM, how long work under way may take to finish before it is abandoned (redone on restart).",
        minimum=timedelta(seconds=1),
    ),
    Setting(
        "run.runner",
        "choice",
        "in-process",
        "Where translation runs: in-process (this process, translation.workers units at a time) or celery "
        "(tasks on a queue per language pair, run by `syndicator worker`; docs/scale-out.md).",
        choices=RUNNER_NAMES,
    ),
    Setting(
        "run.broker",
        "str",
        "",
        'Message broker of the celery runner, e.g. "amqp://syndicator:SECRET@mq.example.org/syndicator" '
        "(RabbitMQ); required when run.runner = celery.",
    ),
    Setting(
        "run.failover",
        "duration",
        "30s",
        "With several `syndicator run` on one PostgreSQL store: at most how long after the scheduling one "
        "dies a standby takes over polling and scheduling.",
        minimum=timedelta(seconds=3),
    ),
    Setting(
        "run.publish_delay",
        "duration",
        "5s",
        "Celery runner: a language is published this long after the first translation that asked for it, "
        "so a burst of translations publishes once.",
        minimum=timedelta(0),
    ),
    Setting(
        "run.task_wait",
        "duration",
        "10m",
        "Celery runner: how long a translate pass waits for its tasks; tasks still queued then go on, and "
        "their workers have their languages published.",
        minimum=timedelta(seconds=1),
    ),
)
SETTINGS += RUN_SETTINGS

SOURCE_SETTINGS: dict[str, tuple[Setting, ...]] = {
    # Keys every [[source]] has.
    "*": (
        Setting("name", "str", REQUIRED, "Unique name of the source, used in the store and in messages."),
        Setting("kind", "choice", REQUIRED, "What the source reads.", choices=SOURCE_KINDS),
        Setting(
            "every",
            "duration",
            "5m",
            "How often to read it: 30s, 5m, 2h, 1d, 1h30m (at least 10s).",
            minimum=timedelta(seconds=10),
        ),
        Setting(
            "jitter",
            "duration",
            None,
            "Random delay added to each poll so sources polled at the same interval spread out.",
            default_doc="a tenth of every, at most 30s",
        ),
        Setting("language", "language", None, "Language of its articles.", default_doc="languages.source"),
        Setting("enabled", "bool", True, "Set to false to stop reading it without deleting it."),
    ),
    "folder": (Setting("path", "dir", REQUIRED, "Folder of article files to read; it must exist."),),
    "feed": (
        Setting("url", "url", REQUIRED, "Address of the RSS or Atom feed."),
        Setting(
            "detect_language",
            "bool",
            False,
            "Detect each article's language from its text (py3langid); the source's language is the fallback.",
        ),
    ),
    "web": (
        Setting("url", "url", REQUIRED, "Address of the listing page that links to the articles."),
        Setting(
            "selectors",
            "selectors",
            {},
            "CSS selectors overriding automatic extraction: links, title, date, author, image, body.",
            choices=SELECTOR_FIELDS,
        ),
        Setting(
            "detect_language",
            "bool",
            False,
            "Detect each article's language from its text (py3langid); the source's language is the fallback.",
        ),
    ),
}

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
