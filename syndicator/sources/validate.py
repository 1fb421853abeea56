"""Every article from every source kind is checked and cleaned here before the store sees it.

`make_source` wraps each source so its items pass through `validate`: one place for all kinds, so a new
kind cannot skip it. What it guarantees to the rest of the pipeline:

- the language is a BCP 47 tag Babel knows, in canonical form ("fr_FR" → "fr-FR"; "iw" → "he"), and one
  of the configured languages when it is a variant of one ("fr-FR" → "fr" when "fr" is configured);
- the date has an offset of at most ±14:00, converts to UTC and lies between 1900 and `MAX_DAYS_AHEAD` days
  from now (sources/dates.py; a modification date that does not is left out and reported), and problems
  quote it as the source wrote it (`ArticleInput.dates_written`);
- title, summary, author and tags are plain text (markup stripped, entities decoded to a fixed point,
  control characters removed), of bounded length; the body is sanitized HTML of bounded length;
- the article URL and image URL are http(s) or empty, or the image is the media path of the image file the
  source read with the article (`ArticleInput.image_file`, checked by its bytes in sources/images.py); the key is short and has no control characters.

An item that breaks a rule it cannot be repaired from (language, date, key, empty title, oversized body)
becomes a Problem naming the file or URL and what to do; the others are repaired (a bad URL dropped, an
overlong title shortened) and reported beside the stored article. Nothing here raises for bad input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from babel import Locale, UnknownLocaleError

from syndicator.models import ArticleInput, Problem, Unchanged
from syndicator.sanitize import clean_html, plain_text, safe_url
from syndicator.sources.dates import BadDate, check_date

MAX_TITLE = 1_000  # characters
MAX_SUMMARY = 5_000
MAX_AUTHOR = 300
MAX_TAG = 100
MAX_TAGS = 50
MAX_URL = 2_048
MAX_KEY = 200
MAX_BODY = 1_000_000  # characters of sanitized HTML: far beyond any news article, far below a bomb

# C0/C1 controls (tab and newline are whitespace, kept where text may have lines), lone surrogates and
# noncharacters: nothing a reader can show, and XML 1.0 cannot carry most of them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_KEY_BAD = re.compile(r"[\x00-\x20\x7f-\x9f]")
_TAG_SHAPE = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*\Z")


class Rejected(ValueError):
    """The item cannot be stored; the message says what is wrong and what to do."""


@functools.lru_cache(maxsize=1024)
def language_tag(code: str) -> str | None:
    """The canonical BCP 47 form of a language code Babel knows ("fr_FR" → "fr-FR"), or None."""
    if not _TAG_SHAPE.match(code):
        return None
    head, *rest = re.split(r"[-_]", code)
    if head.lower() in ("und", "root"):  # Babel maps them to real locales, which nobody means
        return None
    try:
        language = Locale.parse(head.lower()).language  # resolves aliases: "iw" → "he"
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    parts = [language]
    script = territory = None
    for part in rest:
        if len(part) == 4 and part.isalpha() and script is None and territory is None:
            script = part.title()
            parts.append(script)
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            if territory is not None:
                return None
            territory = part.upper()
            parts.append(territory)
        else:
            return None  # variants and extensions: nothing a feed reader or Babel uses
    try:
        parsed = Locale.parse("_".join(parts))
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    # Babel quietly swaps an unknown region for a likely one ("en_ZZ" → en_US): that is not the tag given.
    if (territory and parsed.territory != territory) or (script and parsed.script != script):
        return None
    return "-".join(parts)


def article_language(code: str, configured: Sequence[str]) -> str | None:
    """The language an article is stored under: a configured code when `code` is it or a variant of it
    ("fr-FR" when only "fr" is configured), else the canonical tag; None when it is no language."""
    tag = language_tag(code.strip())
    if tag is None:
        return None
    by_tag = {language_tag(c) or c: c for c in configured}
    if tag in by_tag:
        return by_tag[tag]
    base = tag.split("-")[0]
    return by_tag.get(base) or next((c for t, c in by_tag.items() if t.split("-")[0] == base), tag)


def _text(value: str, limit: int, field: str, notes: list[str], *, lines: bool = False) -> str:
    text = _CONTROL.sub("", plain_text(_CONTROL.sub("", value)))
    text = text.strip() if lines else " ".join(text.split())
    if len(text) > limit:
        notes.append(f"{field} cut to {limit} characters (it had {len(text)})")
        cut = text[:limit]
        text = (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut).rstrip() + "…"
    return text


def _url(value: str, field: str, notes: list[str]) -> str:
    url = value.strip()
    if not url:
        return ""
    if len(url) > MAX_URL or _CONTROL.search(url) or not safe_url(url):
        notes.append(
            f"{field} {url[:80]!r} left out: only http(s) URLs up to {MAX_URL} characters are published"
        )
        return ""
    return url


def _own_media(item: ArticleInput) -> bool:
    """Whether the image is the file the source read with the article (a media path made from its bytes)."""
    return item.image_file is not None and item.image == item.image_file.path


def _date(published: datetime, now: datetime, written: str) -> datetime:
    try:
        return check_date(published, now, written)
    except BadDate as exc:
        raise Rejected(str(exc)) from None


def validate(item: ArticleInput, configured: Sequence[str], now: datetime) -> tuple[ArticleInput, list[str]]:
    """The item cleaned, and notes on what was repaired; Rejected when it cannot be stored."""
    # What the source found wrong but not fatal (an unreadable image, a key it does not read).
    notes: list[str] = [*item.notes, *item.remarks]
    if not item.key or len(item.key) > MAX_KEY or _KEY_BAD.search(item.key):
        raise Rejected(
            f"id {item.key[:80]!r} must be 1 to {MAX_KEY} characters without spaces or control characters"
        )
    language = article_language(item.language, configured)
    if language is None:
        raise Rejected(
            f"language {item.language[:40]!r} is not a language code (BCP 47, e.g. 'fr' or 'pt-BR'); "
            "fix the article's 'language' or leave it out to use the source's"
        )
    written_published, written_modified = item.dates_written
    published = _date(item.published, now, written_published)
    modified = item.modified
    if modified is not None:
        try:
            modified = _date(modified, now, written_modified)
        except Rejected as exc:  # the article stands without it: dated by its publication, or when edited
            notes.append(f"modification {exc}; left out")
            modified = None
    title = _text(item.title, MAX_TITLE, "title", notes)
    if not title:
        raise Rejected("the title is empty once markup is removed; give the article a text title")
    body = clean_html(_CONTROL.sub("", item.body_html)).strip()
    if len(body) > MAX_BODY:
        raise Rejected(f"the body has {len(body):,} characters; at most {MAX_BODY:,} are published")
    tags = tuple(dict.fromkeys(t for t in (_text(t, MAX_TAG, "tag", notes) for t in item.tags) if t))
    if len(tags) > MAX_TAGS:
        notes.append(f"only the first {MAX_TAGS} of {len(tags)} tags kept")
        tags = tags[:MAX_TAGS]
    return replace(
        item,
        language=language,
        title=title,
        summary=_text(item.summary, MAX_SUMMARY, "summary", notes, lines=True),
        author=_text(item.author, MAX_AUTHOR, "author", notes),
        tags=tags,
        body_html=body,
        url=_url(item.url, "url", notes),
        image=item.image if _own_media(item) else _url(item.image, "image", notes),
        published=published,
        modified=modified,
        image_file=item.image_file if _own_media(item) else None,
        notes=(),
        remarks=(),
    ), notes


def validated(
    items: Iterator[ArticleInput | Problem | Unchanged], source: str, configured: Sequence[str]
) -> Iterator[ArticleInput | Problem | Unchanged]:
    """A source's items with every article validated: cleaned, or a Problem naming where it came from.
    An Unchanged item was validated when it was read and stored, so it passes as it is."""
    for item in items:
        if isinstance(item, Problem | Unchanged):
            yield item
            continue
        origin = item.origin or f"{source}:{item.key[:80]}"
        try:
            clean, notes = validate(item, configured, datetime.now(UTC))
        except Rejected as exc:
            yield Problem(source, origin, f"{exc} (not stored)")
            continue
        for note in notes:
            yield Problem(source, origin, note)
        yield clean
