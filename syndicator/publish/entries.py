"""Stored versions → localized feed entries and channels (no I/O): where localization meets publishing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import escape

from syndicator.config import Config
from syndicator.glossary import EMPTY, Glossary
from syndicator.localize import Catalogs, direction, display_date, locale, native_name
from syndicator.markup import Markup, render_fragment, safe_html
from syndicator.models import Article, Translation
from syndicator.publish.bodylinks import linked_body
from syndicator.publish.empty import EXPLAINED
from syndicator.publish.feeds import Alternate, FeedChannel, FeedEntry
from syndicator.publish.media import is_media_file
from syndicator.publish.pages import relative_url
from syndicator.sanitize import plain_text, safe_url

# Bump when the bytes a given input produces change (templates, links, fields): every language is then
# republished once in full, archives included (see publish/publisher.py).
FORMAT_VERSION = "7"
STYLESHEET_FILE = "feed.xsl"

# (tag, language) -> the tag in that language. By default a tag that is a glossary term takes the glossary's
# rendering (its fixed translation, or as written when kept); any other tag is looked up as a msgid in the
# language's gettext catalog, and stays as it is when the catalog does not have it.
TagTranslator = Callable[[str, str], str]

_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}\Z")


def entry_path(article: Article, language: str) -> str:
    """Where an entry's own page lives under feeds/: "<lang>/<source>/<key>.html", stable forever."""
    key = article.key.lower()
    if not _SAFE.match(key) or key != article.key:
        key = hashlib.sha256(article.key.encode("utf-8")).hexdigest()[:20]
    source = (
        article.source
        if _SAFE.match(article.source)
        else hashlib.sha256(article.source.encode()).hexdigest()[:12]
    )
    return f"{language}/{source}/{key}.html"


def entry_dates(article: Article, translation: Translation | None) -> tuple[datetime, datetime]:
    """(updated, changed) of one language version of an article.

    `updated` is what readers show: the last significant change of what the entry says (the article's, or a
    human correction's), `published` for an article never changed. `changed` is when the entry's content in
    this language last changed on our side (stored, edited, translated anew): the feed's own date is the
    newest of them, so a feed moves when a translation arrives even though the entry is dated in March.
    """
    updated = article.modified or article.published
    changed = article.updated
    if translation is not None:
        updated = translation.updated or updated
        # The article's own fields (image, tags, author) show at once; its text once translated.
        changed = max(changed, translation.revised or translation.updated or changed)
    return max(updated, article.published), changed


def provenance(translation: Translation) -> dict[str, Any]:
    """Machine-readable origin of a translation: engine, model version, pivot, reviewed by a human, and the
    share of words the engine marked unknown (only for engines that mark them: Apertium)."""
    data: dict[str, Any] = {
        "engine": translation.engine,
        "model": translation.model_version,
        "pivot": translation.pivot or None,
        "reviewed": translation.reviewed,
    }
    if translation.unknown_ratio is not None and not translation.reviewed:
        data["unknown_ratio"] = round(translation.unknown_ratio, 3)
    return data


def provenance_attributes(translation: Translation) -> dict[str, str]:
    """The provenance as data- attributes of the notice paragraph (empty values left out)."""
    data = provenance(translation)
    attrs = {"engine": data["engine"], "model": data["model"], "pivot": data["pivot"] or "",
             "reviewed": "true" if data["reviewed"] else "false",
             "unknown-ratio": str(data.get("unknown_ratio", ""))}  # fmt: skip
    return {f"data-{k}": v for k, v in attrs.items() if v}


@dataclass(frozen=True)
class Localized:
    """One language version of an article, ready for a feed and a page."""

    article: Article
    language: str
    title: str
    summary: str
    body_html: str  # the text itself, sanitized
    content_html: str  # with date line, notices and links, wrapped with lang/dir
    entry: FeedEntry
    page_html: Markup  # content_html as the entry's own page shows it: links to our files relative


class EntryBuilder:
    """Builds localized entries for one instance."""

    def __init__(
        self,
        config: Config,
        catalogs: Catalogs,
        tags: TagTranslator | None = None,
        glossary: Glossary = EMPTY,
    ) -> None:
        self.config = config
        self.catalogs = catalogs
        self.glossary = glossary
        self.tz = ZoneInfo(config.site.timezone)
        self.tags: TagTranslator = tags or self._tag

    def _tag(self, tag: str, language: str) -> str:
        fixed = self.glossary.render(tag, language)
        return fixed if fixed is not None else self.catalogs.gettext(language, tag)

    def _category(self, tag: str, index: int, language: str, translation: Translation) -> str:
        """A tag in a translated entry: the glossary's, else the catalog's, else the engine's translation."""
        shown = self.tags(tag, language)
        if (
            shown != tag
            or self.catalogs.has(language, tag)
            or self.glossary.render(tag, language) is not None
        ):
            return shown
        engine = translation.tags[index] if index < len(translation.tags) else ""
        return engine or tag

    def signature(self, language: str) -> str:
        """Hash of everything besides articles that shapes a language's bytes: when it changes, all of
        that language is republished."""
        site, langs = self.config.site, self.config.languages
        parts = [FORMAT_VERSION, language, site.title, site.link, site.feeds_url, site.author or "",
                 site.timezone, ",".join(langs.all), str(self.config.publish.max_entries),
                 ",".join(self.config.serve.hubs), self._catalogs_digest]  # fmt: skip
        # Categories follow the glossary: a changed term republishes its languages (nothing added without one).
        parts.extend(f"{term}={rendering}" for term, rendering in self.glossary.for_language(language))
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()

    @cached_property
    def _catalogs_digest(self) -> str:
        # Language names, notices and tags come from every configured language's catalog.
        digest = hashlib.sha256()
        for code in self.config.languages.all:
            files = self.catalogs.files(code)
            digest.update(b"\0".join(po.read_bytes() for po in files) if files else b"-")
        return digest.hexdigest()

    def url(self, relpath: str) -> str:
        """Absolute URL of a published file."""
        return self.config.site.feeds_url + relpath

    def site_title(self, language: str) -> str:
        """The site's name in `language`, where the catalog has it."""
        return self.catalogs.gettext(language, self.config.site.title)

    def channel(self, language: str) -> FeedChannel:
        """Feed-level data for one language."""
        _ = self.catalogs.gettext
        site = self.site_title(language)
        others = tuple(
            Alternate(lang, self.url(f"{lang}/atom.xml"), native_name(lang), "application/atom+xml")
            for lang in self.config.languages.all
            if lang != language
        )
        return FeedChannel(
            language=language,
            title=site,
            subtitle=_(
                language,
                "News from %(site)s in %(language)s",
                site=site,
                language=native_name(language, heading=False),
            ),
            site_link=self.config.site.link,
            feed_base=self.url(f"{language}/"),
            author=self.config.site.author or self.config.site.title,
            direction=direction(language),
            alternates=others,
            stylesheet=STYLESHEET_FILE,
            hubs=self.config.serve.hubs,
        )

    def explain_empty(self, channel: FeedChannel, reason: str) -> FeedChannel:
        """The channel of a feed with no entries, its description saying why (`reason`: a msgid of
        publish/empty.py), in the feed's language."""
        _ = self.catalogs.gettext
        lang = channel.language
        subtitle = _(lang, EXPLAINED, description=channel.subtitle, reason=_(lang, reason))
        return replace(channel, subtitle=subtitle)

    def localize(
        self,
        article: Article,
        language: str,
        translation: Translation | None,
        available: set[str],
        media: Callable[[str], str] | None = None,
    ) -> Localized:
        """One version of an article as a feed entry; `available` are the languages it can be read in.
        `media` makes the URL of a file Syndicator publishes (media/<hash>.<ext>) in the feed (default: in
        feeds/; a partner feed serves a restricted entry's files itself)."""
        media = media or self.url
        _ = self.catalogs.gettext
        if translation is None:
            title, summary, body = article.title, article.summary, article.body_html
        else:
            title, summary, body = translation.title, translation.summary, translation.body_html
        title, summary = plain_text(title), plain_text(summary)
        here = entry_path(article, language)
        feeds_url = self.config.site.feeds_url
        # Files the body links that Syndicator publishes (media/<hash>.<ext>): absolute in feeds, relative on
        # the entry's page, like the lead image; escape(): the URL goes into an attribute. The stored body
        # (sanitized when it was read) is linked first, then sanitized again as it is placed.
        in_feed = linked_body(body, lambda path: str(escape(media(path))))
        on_page = linked_body(body, lambda path: str(escape(relative_url(self.url(path), here, feeds_url))))
        body = safe_html(in_feed)
        page_body = body if on_page == in_feed else safe_html(on_page)  # most bodies link no file of ours
        own_url = self.url(entry_path(article, language))
        original_url = safe_url(article.url) or self.url(entry_path(article, article.language))
        # An image Syndicator publishes itself (media/<hash>.<ext>) is one of our files; any other is a URL.
        image = media(article.image) if is_media_file(article.image) else safe_url(article.image)
        alternates = tuple(
            Alternate(lang, self.url(entry_path(article, lang)), native_name(lang))
            for lang in sorted(available)
            if lang != language
        )
        updated, changed = entry_dates(article, translation)
        updated_text = ""
        if updated > article.published:
            updated_text = _(language, "Updated %(date)s", date=display_date(updated, language, self.tz))
        notice = ""
        if translation is not None:
            source_name = locale(article.language).get_display_name(locale(language)) or article.language
            if translation.reviewed:
                notice = _(language, "Reviewed translation from %(language)s.", language=source_name)
            else:
                notice = _(
                    language, "This article was machine-translated from %(language)s.", language=source_name
                )
        published_text = _(
            language, "Published %(date)s", date=display_date(article.published, language, self.tz)
        )
        values: dict[str, Any] = dict(
            language=language,
            direction=direction(language),
            published_iso=article.published.isoformat(),
            published_text=published_text,
            updated_text=updated_text,
            notice=notice,
            provenance=provenance_attributes(translation) if translation is not None else {},
            original_url=original_url,
            # The source's own page (a feed or web source's link, a drop file's `url:`), for the original too.
            source_url=safe_url(article.url),
            original_language=article.language,
            read_original=_(language, "Read the original"),
            image=image,
            body=body,
        )
        content = render_fragment("entry_content.html", **values)
        # On the entry's own page, links to what we publish are relative (pages.py); feeds keep them absolute.
        local = {
            "original_url": relative_url(original_url, here, feeds_url),
            "image": relative_url(image, here, feeds_url),
            "body": page_body,
        }
        page_html = (
            content
            if local == {"original_url": original_url, "image": image, "body": body}
            else render_fragment("entry_content.html", **{**values, **local})
        )
        entry = FeedEntry(
            guid=own_url,
            link=own_url,
            title=title,
            summary=summary,
            content_html=content,
            published=article.published,
            updated=updated,
            changed=changed,
            author=article.author,
            categories=tuple(
                plain_text(tag if translation is None else self._category(tag, i, language, translation))
                for i, tag in enumerate(article.tags)
            ),
            image=image,
            alternates=alternates,
            provenance=provenance(translation) if translation is not None else None,
            date_text=" · ".join(t for t in (published_text, updated_text) if t),
            notice=notice,
        )
        return Localized(article, language, title, summary, body, content, entry, page_html)
