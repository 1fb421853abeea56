"""Plain data carried between stages: no I/O, no ORM objects."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Characters that break a log line or a database text column: C0/C1 controls, line and paragraph
# separators, and lone surrogates (undecodable bytes in file names arrive as those).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` on one line and storable anywhere: unprintable characters written as escapes (\\n, \\udcff)."""
    return _UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], text)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


MEDIA_DIR = "media"  # published images live at feeds/media/<hash>.<ext>; articles refer to them so
MEDIA_NAME_HEX = 32  # hex digits of the SHA-256 in a media file's name (128 bits: no two images collide)


@dataclass(frozen=True)
class MediaFile:
    """An image a source read with its article (a drop folder's `image: images/ferry.jpg`), published by
    Syndicator itself under a name made from its bytes: a name never changes meaning, so caches keep it."""

    data: bytes = field(repr=False)
    extension: str  # "jpg", "png", "gif" or "webp": decided by the bytes, never by the file name

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the bytes: the store's key."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def path(self) -> str:
        """Where it is published, relative to the site (feeds_url): media/<hash prefix>.<ext>."""
        return media_path(self.sha256, self.extension)


def media_path(sha256: str, extension: str) -> str:
    """The site-relative path of stored media: media/<first MEDIA_NAME_HEX hex digits>.<ext>."""
    return f"{MEDIA_DIR}/{sha256[:MEDIA_NAME_HEX]}.{extension}"


@dataclass(frozen=True)
class ArticleInput:
    """One article as a source read it, before the store has seen it."""

    source: str
    key: str  # stable id within the source
    language: str
    title: str
    body_html: str
    published: datetime  # timezone-aware
    summary: str = ""
    author: str = ""
    tags: tuple[str, ...] = ()
    image: str = ""
    url: str = ""
    origin: str = ""  # where it was read from (file path, URL), for messages
    # True when the source had no date and `published` is a stand-in: a stored article keeps its date.
    date_guessed: bool = False
    # When the source says the article last changed (Atom/RSS `updated`, front matter `updated`/`modified`,
    # `article:modified_time`), timezone-aware; None when it does not say.
    modified: datetime | None = None
    # `published` and `modified` as the source wrote them ("Fri, 31 Dec 9999 23:59:59 -1400"), so a problem
    # with either quotes what the upstream or editor wrote, not a parser's reading of it; "" when unknown.
    dates_written: tuple[str, str] = ("", "")
    # The version tag of what it was read from (a drop-folder file's stat and key), remembered once the
    # article is stored, so an unchanged file is not read again: "" when the source has none.
    version_tag: str = ""
    # Keys earlier versions may have stored this article under (a feed id resolved against the feed URL): an
    # article found under one is re-keyed to `key`, so an upgrade keeps every identity.
    aliases: tuple[str, ...] = ()
    # The lead image's bytes when the source holds them (a drop folder's relative `image:`); `image` is then
    # its media path (MediaFile.path). None: `image` is a URL or empty.
    image_file: MediaFile | None = None
    # The files beside it that its body links (<img src>, <a href> to an image or a PDF), read with it: the
    # body then names each by its media path (sources/bodyfiles.py), and they are stored before the article.
    body_files: tuple[MediaFile, ...] = ()
    # What was wrong with it that did not stop it being stored (an unreadable image): reported as Problems.
    notes: tuple[str, ...] = ()
    # Reported like notes, but about the file's own text only (a front-matter key that is not read): editing
    # the file is the only fix and changes its version tag, so a drop folder need not read it again meanwhile.
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unchanged:
    """An item the source did not read again: its version tag matches the one remembered when it was stored."""

    source: str
    key: str
    origin: str
    version_tag: str

    def __post_init__(self) -> None:
        # A file name may hold a newline or undecodable bytes: logged and stored, so escaped here.
        object.__setattr__(self, "origin", printable(self.origin))


@dataclass(frozen=True)
class Problem:
    """Bad input reported by a source: logged once, stored, never fatal (feedparser's bozo)."""

    source: str
    origin: str
    message: str

    def __post_init__(self) -> None:
        # Origins and messages quote outside data (a file name with a newline, undecodable bytes): escaped
        # here, so no problem can forge a log line or fail to be stored.
        # Both are cut to a readable length: a message may quote a value as long as its file.
        object.__setattr__(self, "origin", _shorten(printable(self.origin), 1000))
        object.__setattr__(self, "message", _shorten(printable(self.message), 2000))


@dataclass(frozen=True)
class Article:
    """A stored article."""

    id: int
    source: str
    key: str
    language: str
    title: str
    summary: str
    body_html: str
    author: str
    tags: tuple[str, ...]
    image: str
    url: str
    published: datetime
    first_seen: datetime  # when the store first saw it (UTC)
    updated: datetime  # when the store saw its content last change (UTC, wall clock)
    content_hash: str
    # Its last significant change, as readers are shown it (the source's own time when it gives one);
    # None: never changed since `published`.
    modified: datetime | None = None
    # When it was taken down (`syndicator withdraw`), and why; None while it is public.
    withdrawn_at: datetime | None = None
    withdrawn_reason: str = ""


@dataclass(frozen=True)
class Translation:
    """A stored translation of one article into one language."""

    article_id: int
    language: str
    status: str  # one of TRANSLATION_STATUSES
    title: str = ""
    summary: str = ""
    body_html: str = ""
    engine: str = ""
    model_version: str = ""
    pivot: str = ""  # the pivot language, when translated through one
    error: str = ""
    source_hash: str = ""  # content hash of the article it was made from
    updated: datetime | None = None
    reviewed: bool = False  # a human correction, not machine output
    attempts: int = 0  # failed attempts since the last success
    next_retry: datetime | None = None  # when a failed translation may be tried again
    # Share of the words the engine marked unknown or untranslatable (Apertium), None where it marks nothing.
    unknown_ratio: float | None = None
    tags: tuple[str, ...] = ()  # the article's tags as the engine translated them, in the article's order
    revised: datetime | None = None  # when its text last changed (wall clock), as stored
    # A quality-gate refusal: the fingerprint of what it depended on (translate/quality.py `depends_on`); it is
    # retried only when that changes, not on a timer. "" for anything else (a crash is retried on a timer).
    depends: str = ""


PENDING, DONE, FAILED, NO_MODEL = "pending", "done", "failed", "no-model"
HUMAN = "human"  # the engine name recorded for human corrections
TRANSLATION_STATUSES = (PENDING, DONE, FAILED, NO_MODEL)


@dataclass(frozen=True)
class Version:
    """One language version of an article, as a feed entry shows it."""

    article: Article
    language: str
    title: str
    summary: str
    body_html: str
    translation: Translation | None = None  # None for the original


@dataclass
class CycleReport:
    """What one pipeline cycle did: handed back to the CLI and the scheduler."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # seen through another source (same canonical URL): stored once
    problems: list[Problem] = field(default_factory=list)
    # "origin: message" of the problems logged as warnings this cycle: a summary need not repeat them.
    announced: set[str] = field(default_factory=set)
    translated: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    no_model: dict[str, int] = field(default_factory=dict)
    queued: dict[str, int] = field(
        default_factory=dict
    )  # handed to workers, not finished when the pass ended
    corrected: dict[str, int] = field(default_factory=dict)  # human corrections applied, per language
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # published files removed (left public view)

    @staticmethod
    def per_language(counts: Mapping[str, int]) -> str:
        """ "es 4, fr 2" for a log line ("none" when empty): a dict's repr is not for people."""
        return ", ".join(f"{lang} {n}" for lang, n in sorted(counts.items()) if n) or "none"

    @property
    def changed_articles(self) -> int:
        """Articles that are new or changed in this cycle."""
        return self.new + self.updated
