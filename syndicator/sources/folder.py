"""The drop folder: one article per file: Markdown with YAML front matter, a saved HTML page, or JSON."""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import frontmatter
import yaml
from markdown_it import MarkdownIt

from syndicator import __version__
from syndicator.config import SourceConfig
from syndicator.errors import BadItem
from syndicator.models import ArticleInput, MediaFile, Problem, Unchanged
from syndicator.sanitize import clean_html
from syndicator.settings_table import MAX_FILE_BYTES, MAX_IMAGE_BYTES
from syndicator.sources import FIELD_LIMITS, SourceContext, read_item, register
from syndicator.sources.bodyfiles import publish_body_files
from syndicator.sources.extract import decode_html, extract_article
from syndicator.sources.files import FileLimits, read_file
from syndicator.sources.images import (
    DOCUMENT_EXTENSIONS,
    IMAGE_EXTENSIONS,
    BadImage,
    image_file,
    image_signature,
    is_file_reference,
)

log = logging.getLogger(__name__)

_markdown = MarkdownIt("commonmark", {"typographer": False}).enable("table").enable("strikethrough")
# \Z, not $: "$" also matches before a final newline, and a file name may end in one.
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\Z")
MARKDOWN_SUFFIXES = (".md", ".markdown")
# How files are read, beyond the code's version: changed when the same file reads differently, so every file
# is read again once ("2": body links to files beside the article are published, sources/bodyfiles.py).
READING = "2"
SUFFIXES = (*MARKDOWN_SUFFIXES, ".html", ".htm", ".json")


def is_article_file(folder: Path, path: Path) -> bool:
    """Whether `path` is a file the folder source `folder` reads: directly in it, a known suffix, not hidden.
    Editors' temp files (`.x.md.swp`, `x.md~`, `#x.md#`, `.x.md.tmp`) never count; the watcher applies the
    same rule to its events (syndicator/watcher.py)."""
    return path.parent == folder and path.suffix.lower() in SUFFIXES and not path.name.startswith(".")


_IMAGE_SUFFIXES = tuple(f".{e}" for e in (*IMAGE_EXTENSIONS, "jpeg", *DOCUMENT_EXTENSIONS))


def is_watched_file(folder: Path, path: Path) -> bool:
    """What a watch of the folder source `folder` hands on: its article files, and the files their images and
    body links may be (any file in a sub-folder, an image or PDF beside the articles): a replaced or newly
    arrived one changes its article.
    Hidden files and folders never count."""
    if is_article_file(folder, path):
        return True
    if not path.is_relative_to(folder):
        return False
    inside = path.relative_to(folder).parts
    if not inside or any(part.startswith(".") for part in inside):
        return False
    return len(inside) > 1 or path.suffix.lower() in _IMAGE_SUFFIXES


def version_tag(size: int, mtime_ns: int, inode: int, reading: str) -> str:
    """A drop-folder file's version tag, to which the key it gave is appended ("file:…:key"), and the state
    of each file it names, if any ("file:…:key|images%2Fferry.jpg|<signature>": see files_tag)."""
    return f"file:{size:x}-{mtime_ns:x}-{inode:x}-{reading}:"


# The keys an article file is read by. Static-site generators name some of them differently, and editors who
# move posts over keep their keys, so those spellings are read as what they mean rather than dropped:
# - tags: Hugo and Jekyll file subjects under `categories` (Jekyll also `category`), Hugo, Hexo and Eleventy
#   under `keywords`, and `tag` is the singular slip. All are labels of what the article is about, and a
#   restricted category (partners.toml) is matched against tags: read as tags, `categories: [embargoed]`
#   keeps the article restricted instead of publishing it. Every one given is merged, none wins.
# - summary: `description` (Hugo, Jekyll) when there is no `summary`;
# - the modification time: `lastmod` (Hugo) besides `updated`/`modified`; the language: `lang`.
# Any other key is reported when the file is read (a remark: it is not read again until it changes), with the
# nearest known key as a hint: the article is stored, but an editor whose `embargo: true` or `authr:` is not
# read learns it from the report, not from a reader.
TAG_KEYS = ("tags", "tag", "categories", "category", "keywords")
SUMMARY_KEYS = ("summary", "description")
UPDATED_KEYS = ("updated", "modified", "lastmod")
LANGUAGE_KEYS = ("language", "lang")
FIELD_KEYS = ("title", "date", "id", "author", "image", "url", *TAG_KEYS, *SUMMARY_KEYS, *UPDATED_KEYS,
              *LANGUAGE_KEYS)  # fmt: skip
JSON_KEYS = (*FIELD_KEYS, "body", "body_html")
# Keys that mean "do not publish this" in static-site generators: nothing in the drop folder is held back by a
# key, so the hint says how to hold an article back.
_HOLD_BACK_KEYS = {"draft", "published", "unlisted", "private", "hidden", "embargo", "embargoed"}
# Other generators' names for a key that is read under another name: the hint names it.
_SYNONYMS = {"pubdate": "date", "publishdate": "date", "created": "date", "authors": "author", "cover": "image",
             "featured_image": "image", "thumbnail": "image", "link": "url", "subtitle": "summary",
             "excerpt": "summary", "locale": "language"}  # fmt: skip
MAX_KEY_NOTES = 10  # a file with thousands of keys is reported by its first ones and a count


def unknown_keys(meta: dict[Any, Any], known: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Notes for the keys of `meta` that are not read (`what`: "front matter key" or "key"), each with a hint:
    the nearest known key, or how to hold an article back for a key that meant that elsewhere."""
    unknown = [str(k) for k in meta if str(k) not in known]
    notes = []
    for key in unknown[:MAX_KEY_NOTES]:
        shown = key if len(key) <= 60 else key[:60] + "…"
        if key.lower() == "published" and not isinstance(meta[key], bool):
            hint = "the publication date is 'date'"  # Jekyll's `published: false` holds back; a date does not
        elif key.lower() in _HOLD_BACK_KEYS:
            hint = (
                "every file in the folder is published: keep the file out of the folder until it is due, "
                "or give it a tag of a restricted category (partners.toml 'restricted')"
            )
        elif key.lower() in known:
            hint = f"keys are lower case: did you mean {key.lower()!r}?"
        elif key.lower() in _SYNONYMS:
            hint = f"did you mean {_SYNONYMS[key.lower()]!r}?"
        elif close := difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6):
            hint = f"did you mean {close[0]!r}?"
        else:
            hint = f"the keys read are {', '.join(known)}"
        notes.append(f"{what} {shown!r} is not read ({hint}); the article is stored without it")
    if len(unknown) > MAX_KEY_NOTES:
        notes.append(f"{len(unknown) - MAX_KEY_NOTES} more {what}s are not read")
    return tuple(notes)


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of `keys` that `meta` gives a value for."""
    return next((key for key in keys if meta.get(key) not in (None, "")), None)


def word_list(value: Any, key: str) -> list[str]:
    """A front-matter list of words (a YAML list, or words separated by commas), each stripped, in order."""
    if isinstance(value, str | int):
        value = str(value).split(",")
    if not isinstance(value, list) or not all(isinstance(t, str | int) for t in value):
        raise BadArticle(f"'{key}' must be a list of words")
    return [str(t).strip() for t in value]


def _tags(meta: dict[str, Any]) -> list[str]:
    """The labels under every tag key (TAG_KEYS), merged."""
    return [t for key in TAG_KEYS for t in word_list(meta.get(key) or [], key) if t]


class BadArticle(BadItem):
    """A file that cannot become an article; the message says what is wrong."""


def render_markdown(text: str) -> str:
    """Markdown → sanitized HTML."""
    return clean_html(_markdown.render(text)).strip()


def _as_datetime(value: Any, ctx: SourceContext, name: str = "date") -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    elif value not in (None, "") and not isinstance(value, str):
        raise BadArticle(f"'{name}' is not an ISO 8601 date: {value!r} (e.g. 2026-03-03T09:30:00+08:00)")
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadArticle(
                f"'{name}' is not an ISO 8601 date: {value!r} (e.g. 2026-03-03T09:30:00+08:00)"
            ) from exc
    else:
        raise BadArticle(f"missing '{name}' in front matter (e.g. {name}: 2026-03-03T09:30:00+08:00)")
    # A date without an offset means the newsroom's own clock.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ctx.timezone)


def _written(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _as_text(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise BadArticle(f"'{key}' must be text, got {type(value).__name__}")
    return str(value).strip()


def parse_markdown(data: bytes) -> tuple[dict[str, Any], str]:
    """Markdown bytes → front matter and body, or BadArticle saying what is wrong."""
    try:
        # utf-8-sig: editors on Windows start files with a byte order mark, which hides the front matter.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadArticle(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise BadArticle(f"front matter is not valid YAML{_yaml_where(exc)}") from exc
    except Exception as exc:  # a file starting with "{" or "+++" is read as JSON or TOML front matter
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise BadArticle(f"front matter cannot be read: {first}") from exc
    return dict(post.metadata), post.content


def _yaml_where(exc: yaml.YAMLError) -> str:
    """' at line L, column C: what' in the file's own numbering, so an editor can jump to it."""
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or (str(exc).splitlines() or [""])[0]
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context_mark is not None and "end of stream" in what:
        # An unclosed quote or bracket is only noticed at the end: where it opened is the place to look.
        mark, what = context_mark, f"{what} ({context})"
    if mark is None:
        return f": {what}"
    # python-frontmatter hands PyYAML the text from the end of the opening '---' line (its newline
    # included), so PyYAML's line 0 is the file's line 1.
    return f" at line {mark.line + 1}, column {mark.column + 1}: {what}"


def text_field(meta: dict[str, Any], key: str) -> str:
    """A front matter value as stripped text ('' when absent), or BadArticle when it is not text."""
    return _as_text(meta, key)


def file_limits(cfg: SourceConfig) -> FileLimits:
    """The folder source's file limits (max_file_bytes, symlinks)."""
    return FileLimits(
        max_bytes=int(cfg.options.get("max_file_bytes", MAX_FILE_BYTES)),
        symlinks=str(cfg.options.get("symlinks", "inside")),
    )


def image_limits(cfg: SourceConfig) -> FileLimits:
    """The folder source's limits for the images its articles name (max_image_bytes, symlinks)."""
    return FileLimits(
        max_bytes=int(cfg.options.get("max_image_bytes", MAX_IMAGE_BYTES)),
        symlinks=str(cfg.options.get("symlinks", "inside")),
        setting="max_image_bytes",
    )


def _image_place(article: Path, written: str) -> Path:
    """Where a file written relative to an article's file would be (for its signature; reading it checks
    far more)."""
    return Path(os.path.normpath(os.path.join(article.parent, written.replace("\0", ""))))


def files_tag(seen: list[tuple[str, str]]) -> str:
    """The part of an article file's version tag that stands for the files it names (its lead image, then
    what its body links): "|<as written, %-quoted>|<signature>" for each. A changed, added or removed file
    changes it, so its article is read again."""
    return "".join(f"|{quote(written, safe='')}|{signature}" for written, signature in seen)


def image_tag(article: Path, written: str) -> str:
    """files_tag of the lead image alone, its signature taken now (before it is read: a change meanwhile
    shows next poll)."""
    return files_tag([(written, image_signature(_image_place(article, written)))])


def changed_image(article: Path, remembered: str) -> bool:
    """Whether a file an unchanged article file names is no longer the one its remembered tag saw."""
    _key, *files = remembered.split("|")
    if len(files) % 2:
        return True  # a tag of an earlier format: read the article once more
    return any(
        image_signature(_image_place(article, unquote(written))) != signature
        for written, signature in zip(files[::2], files[1::2], strict=True)
    )


def lead_image(
    written: str, article: Path, cfg: SourceConfig
) -> tuple[str, MediaFile | None, tuple[str, ...]]:
    """An article's `image` naming a file beside it → (its media path, the image, notes). A file that cannot
    be published is a note naming it; the article is stored without an image."""
    try:
        media, _ = image_file(written, article, Path(cfg.options["path"]), image_limits(cfg))
    except BadImage as exc:
        shown = written if len(written) <= 200 else written[:200] + "…"
        return "", None, (f"image {shown!r} {exc}; the article is stored without it",)
    return media.path, media, ()


def parse_article(path: Path, cfg: SourceConfig, ctx: SourceContext) -> ArticleInput:
    """One article file (Markdown, HTML or JSON) → ArticleInput, or BadItem saying what is wrong."""
    file = read_file(path, Path(cfg.options["path"]), file_limits(cfg))
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return parse_html_file(file.data, path, cfg, ctx, file.mtime)
    if suffix == ".json":
        return parse_json(file.data, path, cfg, ctx)
    meta, content = parse_markdown(file.data)
    article = from_fields(meta, render_markdown(content), path, cfg, ctx)
    return replace(article, remarks=unknown_keys(meta, FIELD_KEYS, "front matter key"))


def parse_json(data: bytes, path: Path, cfg: SourceConfig, ctx: SourceContext) -> ArticleInput:
    """A JSON object with the article fields; `body_html` (sanitized) or `body` (Markdown)."""
    try:
        meta = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BadArticle(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:
        raise BadArticle(f"not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise BadArticle(f"expected a JSON object with the article fields, got {type(meta).__name__}")
    body = meta.get("body_html")
    if body is not None:
        if not isinstance(body, str):
            raise BadArticle("'body_html' must be text")
        html = clean_html(body).strip()
    else:
        markdown = meta.get("body", "")
        if not isinstance(markdown, str):
            raise BadArticle("'body' must be text (Markdown)")
        html = render_markdown(markdown)
    article = from_fields(meta, html, path, cfg, ctx)
    return replace(article, remarks=unknown_keys(meta, JSON_KEYS, "key"))


def parse_html_file(
    data: bytes, path: Path, cfg: SourceConfig, ctx: SourceContext, mtime: float
) -> ArticleInput:
    """A saved web page, extracted like a web source's article; dated by its metadata, else the file's mtime."""
    ex = extract_article(decode_html(data), "", ctx.timezone)
    published = ex.published or datetime.fromtimestamp(mtime, tz=ctx.timezone).replace(microsecond=0)
    language = _page_language(ex.language, cfg, ctx)
    meta = {
        "title": ex.title,
        "date": published,
        "modified": ex.modified,
        "author": ex.author,
        "image": ex.image,
        "language": language,
    }
    article = from_fields(meta, ex.body_html, path, cfg, ctx)
    written = ex.dates_written if ex.published else ("", ex.dates_written[1])
    return replace(article, dates_written=written, notes=article.notes + ex.notes)


def _page_language(lang: str, cfg: SourceConfig, ctx: SourceContext) -> str:
    """<html lang> when it names a configured language, else the source's."""
    base = lang.replace("_", "-").split("-")[0].lower()
    for code in ctx.languages:
        if code.lower() == lang.lower() or code.replace("_", "-").split("-")[0].lower() == base:
            return code
    return str(cfg.language)


def from_fields(
    meta: dict[str, Any], body_html: str, path: Path, cfg: SourceConfig, ctx: SourceContext
) -> ArticleInput:
    """Article fields (front matter, JSON or extracted) → ArticleInput, or BadArticle."""
    title = _as_text(meta, "title")
    if not title:
        raise BadArticle("missing 'title' in front matter")
    published = _as_datetime(meta.get("date"), ctx)
    # When the newsroom says the article last changed (a correction, an update): what readers are shown.
    changed = _first(meta, UPDATED_KEYS)
    modified = _as_datetime(meta[changed], ctx, changed) if changed else None
    given = _as_text(meta, "id")
    key = given or path.stem
    if not _KEY_RE.match(key):
        if given:
            raise BadArticle(f"'id' {key!r} may hold only letters, digits, '.', '_' and '-'")
        raise BadArticle(
            f"the file name gives the 'id' {key!r}, which may hold only letters, digits, '.', '_' and '-' "
            "(rename the file or set 'id' in the front matter)"
        )
    tags = _tags(meta)
    language = _as_text(meta, _first(meta, LANGUAGE_KEYS) or "language") or str(cfg.language)
    image, tag = _as_text(meta, "image"), ""
    media: MediaFile | None = None
    notes: tuple[str, ...] = ()
    # A longer value is refused with the article, as an overlong URL is (sources.check_bounds).
    if is_file_reference(image) and len(image) <= FIELD_LIMITS["image"]:
        tag = image_tag(path, image)  # before the image is read: a change meanwhile shows next poll
        image, media, notes = lead_image(image, path, cfg)
    linked = publish_body_files(body_html, path, Path(cfg.options["path"]), image_limits(cfg))
    tag += files_tag(linked.seen)
    notes += tuple(linked.notes)
    return ArticleInput(
        source=cfg.name,
        key=key,
        language=language,
        title=title,
        body_html=linked.html,
        published=published,
        summary=_as_text(meta, _first(meta, SUMMARY_KEYS) or "summary"),
        author=_as_text(meta, "author"),
        tags=tuple(tags),
        image=image,
        url=_as_text(meta, "url"),
        origin=str(path),
        modified=modified,
        # As written, for problems: a YAML date the parser already read is quoted in ISO 8601.
        dates_written=(_written(meta.get("date")), _written(meta[changed]) if changed else ""),
        image_file=media,
        body_files=tuple(linked.files),
        notes=notes,
        # Completed by the folder's poll (FolderSource.poll): the file's own tag and key come first.
        version_tag=tag,
    )


@register("folder")
class FolderSource:
    """Reads every article file (Markdown, HTML, JSON) in one folder (not recursive)."""

    def __init__(self, cfg: SourceConfig, ctx: SourceContext) -> None:
        self.name = cfg.name
        self.cfg = cfg
        self.ctx = ctx
        self.path = Path(cfg.options["path"])

    def _reading(self) -> str:
        """What else decides how a file reads: the code's version and the settings the parser uses. A change
        of any of them makes every file's version tag differ, so each is read again once."""
        settings = repr((__version__, READING, self.cfg, str(self.ctx.timezone), self.ctx.languages))
        return hashlib.sha256(settings.encode("utf-8")).hexdigest()[:16]

    def poll(self) -> Iterator[ArticleInput | Problem | Unchanged]:
        """Every readable article file; a Problem for each broken one.

        A file whose version tag (size, mtime in ns, inode, and what reads it) is the one remembered when its
        article was last stored is not read again: it comes back as Unchanged, without a parse or a write.
        An editor's save, a rename into place and a copy all change the tag; only a rewrite keeping the same
        size, mtime and inode would not (`touch` the file to have it read again)."""
        if not self.path.is_dir():
            yield Problem(
                self.name, str(self.path), "folder does not exist (create it or fix the source's path)"
            )
            return
        remembered = {url: state[0] for url, state in self.ctx.pages.page_states(self.name).items()}
        reading = self._reading()
        for path in sorted(self.path.iterdir()):
            if not is_article_file(self.path, path):
                continue
            # Stat before reading: a file changed in between has a newer tag next time, and is read again.
            try:
                st = path.stat()
            except OSError:
                st = None  # a dangling link, a file gone meanwhile: read_item names what is wrong
            tag = version_tag(st.st_size, st.st_mtime_ns, st.st_ino, reading) if st is not None else ""
            known = remembered.get(str(path), "")
            if tag and known.startswith(tag) and not changed_image(path, known[len(tag) :]):
                yield Unchanged(self.name, known[len(tag) :].partition("|")[0], str(path), known)
                continue
            # One file never stops the folder: whatever goes wrong is a Problem naming it.
            item = read_item(self.cfg, str(path), partial(parse_article, path, self.cfg, self.ctx))
            if isinstance(item, ArticleInput):
                # "file:<stat>:<key>", then "|<file>|<its signature>" for each file it names. A file
                # with a problem (an image that cannot be published) gets none: like a file that cannot be
                # read, it is read on every poll, so its problem stays reported until it is fixed.
                whole = tag + item.key + item.version_tag if tag and not item.notes else ""
                item = replace(item, version_tag=whole)
            yield item
