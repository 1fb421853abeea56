"""Publish stage: build each language's RSS, Atom and JSON Feed documents and store them."""

from .feeds import (
    ATOM_FILE,
    EMPTY_FEED_UPDATED,
    JSON_FILE,
    RSS_FILE,
    Alternate,
    FeedChannel,
    FeedEntry,
    build_all,
    build_atom,
    build_json_feed,
    build_rss,
)
from .writer import (
    WRITERS,
    FeedWriter,
    LocalFolderWriter,
    MemoryFeedWriter,
    make_writer,
    normalize_relpath,
    write_feeds,
)

__all__ = [
    "ATOM_FILE",
    "EMPTY_FEED_UPDATED",
    "JSON_FILE",
    "RSS_FILE",
    "WRITERS",
    "Alternate",
    "FeedChannel",
    "FeedEntry",
    "FeedWriter",
    "LocalFolderWriter",
    "MemoryFeedWriter",
    "build_all",
    "build_atom",
    "build_json_feed",
    "build_rss",
    "make_writer",
    "normalize_relpath",
    "write_feeds",
]
