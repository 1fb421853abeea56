"""A partner's own feeds: built from the store with its languages and categories, cached for a while.

Restricted entries never reach feeds/ (the public folder), so a partner feed cannot be a filtered public
file: it is built here with the same localizer and feed builders the publish stage uses, kept in memory
with a strong ETag (so 304s work across rebuilds), and rebuilt after `serve.partner_refresh` or as soon
as anything was published.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any

from syndicator.config import Config
from syndicator.glossary import EMPTY, Glossary
from syndicator.localize import Catalogs
from syndicator.partners import Partner, shown, visible_versions
from syndicator.publish.entries import EntryBuilder
from syndicator.publish.feeds import build_all
from syndicator.serve.filecache import CachedFile, build_entry
from syndicator.store import Store

FEED_FILES = ("rss.xml", "atom.xml", "feed.json")


def build_partner_feeds(
    config: Config,
    store: Store,
    catalogs: Catalogs,
    partner: Partner,
    restricted: frozenset[str],
    language: str,
    feed_base: str,
    glossary: Glossary = EMPTY,
) -> dict[str, bytes]:
    """RSS, Atom and JSON Feed bytes of one partner's feed in one language."""
    builder = EntryBuilder(config, catalogs, glossary=glossary)

    def own(path: str) -> str:  # a restricted entry's files, served with the feed (PartnerFeedCache.media)
        return feed_base + path

    versions = visible_versions(
        store, language, config.publish.max_entries, lambda article: partner.receives(article, restricted)
    )
    available = store.done_languages([a.id for a, _ in versions])
    entries = []
    for article, translation in versions:
        langs = ({article.language} | available[article.id]) & set(config.languages.all)
        media = None if shown(article, restricted) else own
        entries.append(builder.localize(article, language, translation, langs, media=media).entry)
    # Alternates would point at public feeds without this partner's entries; hubs know no private URLs; the
    # browser stylesheet lives beside the public feeds only.
    public = builder.channel(language)
    # The token stays in the self links (the subscriber's URL) but out of the id: a name-based UUID of the
    # public feed and the partner is as stable, and reveals nothing when shared.
    feed_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{public.feed_base}atom.xml#partner={partner.name}").urn
    channel = dataclasses.replace(
        public, feed_base=feed_base, alternates=(), hubs=(), stylesheet="", feed_id=feed_id
    )
    return build_all(channel, entries)


class PartnerFeedCache:
    """Built partner feeds by (partner, language, base URL), each reused for a limited time."""

    def __init__(self, config: Config, store: Store, catalogs: Catalogs, glossary: Glossary = EMPTY) -> None:
        self.config = config
        self.store = store
        self.catalogs = catalogs
        self.glossary = glossary
        self.max_age = config.serve.partner_refresh.total_seconds()
        self.cache_control = f"private, max-age={int(config.serve.max_age.total_seconds())}"
        self._built: dict[tuple[Any, ...], tuple[float, dict[str, CachedFile]]] = {}
        self._lock = threading.Lock()
        self.builds = 0

    def media(self, name: str) -> CachedFile | None:
        """A file of a restricted entry (media/<hash>.<ext>) as the store holds it: restricted entries' files
        never reach feeds/, so partner feeds link them here, under the partner's own URL."""
        found = self.store.media_files([name]).get(name)
        if found is None:
            return None
        return build_entry(name, found.data, 0.0, self.cache_control, compress=False)

    def clear(self, _changed: object = None) -> None:
        """Forget every built feed (after a publish)."""
        self._built = {}

    def get(
        self, partner: Partner, restricted: frozenset[str], language: str, name: str, feed_base: str
    ) -> CachedFile:
        """The cached file for one partner feed, built when missing or too old (blocking: call off-loop)."""
        key = (partner, restricted, language, feed_base)
        now = time.monotonic()
        hit = self._built.get(key)
        if hit is None or now - hit[0] > self.max_age:
            with self._lock:  # one build at a time: concurrent pulls of the same feed wait for it
                hit = self._built.get(key)
                if hit is None or now - hit[0] > self.max_age:
                    files = build_partner_feeds(
                        self.config, self.store, self.catalogs, partner, restricted, language, feed_base,
                        self.glossary,
                    )  # fmt: skip
                    mtime = time.time()
                    built = {
                        n: build_entry(
                            f"{language}/{n}",
                            data,
                            mtime,
                            self.cache_control,
                            use_brotli=self.config.serve.brotli,
                            vary="Accept-Encoding, Authorization",
                        )
                        for n, data in files.items()
                    }
                    if hit is not None:
                        # Same bytes as before: keep the old Last-Modified so If-Modified-Since still works.
                        built = {n: hit[1][n] if hit[1][n].etag == f.etag else f for n, f in built.items()}
                    hit = (time.monotonic(), built)
                    self._built[key] = hit
                    self.builds += 1
        return hit[1][name]
