"""Source kinds behind a small registry: each turns one configured source into ArticleInputs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from syndicator.config import HttpConfig, SourceConfig
from syndicator.errors import BadItem, SyndicatorError
from syndicator.http import HttpClient
from syndicator.models import ArticleInput, Problem, Unchanged

log = logging.getLogger(__name__)

# Longest field values accepted from any source (characters); feeds and pages are cut to the first three
# when they are read, so these bound what files and JSON hand in. A longer value is a problem, not cut.
FIELD_LIMITS = {"title": 1000, "summary": 2000, "author": 300, "url": 2000, "image": 2000}
MAX_TAGS = 100
MAX_TAG_LENGTH = 200


class PageStates(Protocol):
    """What is remembered of each URL a source reads, per source: HTTP validators and what the listing said
    (the Store implements it)."""

    def page_state(self, source: str, url: str) -> tuple[str, str, str]:
        """(etag, last_modified, fingerprint) of a URL; empty strings when unknown."""
        ...

    def page_states(self, source: str) -> dict[str, tuple[str, str, str]]:
        """Every URL's (etag, last_modified, fingerprint) for a source, in one read."""
        ...

    def save_page_state(
        self,
        source: str,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        """Remember validators and/or a fingerprint of a URL."""
        ...


class TransientPageStates:
    """Page states held only by this object, gone when the process ends: for one-off polls and tests."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[str, str, str]] = {}

    def page_state(self, source: str, url: str) -> tuple[str, str, str]:
        """(etag, last_modified, fingerprint) of a URL."""
        return self.rows.get((source, url), ("", "", ""))

    def page_states(self, source: str) -> dict[str, tuple[str, str, str]]:
        """Every URL's state for a source."""
        return {url: state for (name, url), state in self.rows.items() if name == source}

    def save_page_state(
        self,
        source: str,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        """Remember what is given; None leaves a field alone."""
        old = self.page_state(source, url)
        new = (etag, last_modified, fingerprint)
        self.rows[(source, url)] = tuple(n if n is not None else o for n, o in zip(new, old, strict=True))  # type: ignore[assignment]


@dataclass(frozen=True)
class SourceContext:
    """What a source needs to know about the instance."""

    timezone: ZoneInfo  # for dates written without an offset
    http: HttpClient = field(default_factory=HttpClient)
    pages: PageStates = field(default_factory=TransientPageStates)
    # Article pages a web source fetches per poll (http.max_pages; the default is the table's).
    max_pages: int = field(default_factory=lambda: HttpConfig().max_pages)
    languages: tuple[str, ...] = ()  # configured languages: detected codes are mapped onto these


class Source(Protocol):
    """A place articles come from."""

    name: str

    def poll(self) -> Iterator[ArticleInput | Problem | Unchanged]:
        """Every article the source holds now, and a Problem for each item it could not read."""
        ...


def item_error(exc: BaseException) -> str:
    """Why one item could not be used, for its Problem: our own errors explain themselves."""
    if isinstance(exc, SyndicatorError):
        return str(exc)
    if isinstance(exc, OverflowError):
        return f"a date or number is out of range ({exc})"
    if isinstance(exc, UnicodeError):
        return f"holds text that is not valid Unicode ({exc})"
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    return f"cannot be read: {type(exc).__name__}: {exc}"


def check_bounds(item: ArticleInput, max_body_bytes: int) -> None:
    """Raise BadItem when a field is larger than Syndicator accepts (never cut silently)."""
    size = len(item.body_html.encode("utf-8", "surrogatepass"))
    if size > max_body_bytes:
        raise BadItem(
            f"the article body is {size:,} bytes after extraction, more than the source's limit of "
            f"{max_body_bytes:,}; not stored",
            hint="raise the source's max_body_bytes if such long articles are expected",
        )
    for name, limit in FIELD_LIMITS.items():
        value: str = getattr(item, name)
        if len(value) > limit:
            raise BadItem(f"'{name}' is {len(value):,} characters long, more than {limit:,}; not stored")
    if len(item.tags) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in item.tags):
        raise BadItem(f"at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters each; not stored")


def read_item(cfg: SourceConfig, origin: str, read: Callable[[], ArticleInput]) -> ArticleInput | Problem:
    """One item, isolated: whatever goes wrong reading it becomes a Problem naming it; the source goes on."""
    try:
        item = read()
        check_bounds(item, cfg.max_body_bytes)
    except Exception as exc:  # hostile input reaches parsers' corners: one item's failure is that item's
        if not isinstance(exc, BadItem):
            log.debug("%s: %s could not be read", cfg.name, origin, exc_info=True)
        return Problem(cfg.name, origin, item_error(exc))
    return item


SourceFactory = Callable[[SourceConfig, SourceContext], Source]
SOURCE_KINDS: dict[str, SourceFactory] = {}


def register(kind: str) -> Callable[[SourceFactory], SourceFactory]:
    """Class decorator: make a source kind available to config files."""

    def deco(factory: SourceFactory) -> SourceFactory:
        SOURCE_KINDS[kind] = factory
        return factory

    return deco


class ValidatedSource:
    """A source whose every article passes sources/validate.py before anyone else sees it."""

    def __init__(self, inner: Source, languages: tuple[str, ...]) -> None:
        self.inner = inner
        self.name = inner.name
        self.languages = languages

    def poll(self) -> Iterator[ArticleInput | Problem | Unchanged]:
        """The inner source's items, each article validated (cleaned, or turned into a Problem)."""
        from syndicator.sources.validate import validated

        return validated(self.inner.poll(), self.name, self.languages)


def make_source(cfg: SourceConfig, ctx: SourceContext) -> Source:
    """The Source object for one configured source, its articles validated on the way out."""
    # Importing the kind modules registers them; done here so the registry is complete before first use.
    from syndicator.sources import feed, folder, web  # noqa: F401

    return ValidatedSource(SOURCE_KINDS[cfg.kind](cfg, ctx), ctx.languages)
