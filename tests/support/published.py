"""An independent reader of a published tree: what a partner following RFC 5005 links would see.

Deliberately not `syndicator.publish.audit`: tests check the product's own verifier against this.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FEEDS_URL = "https://news.example.org/feeds/"  # tests/conftest.py write_config
Read = Callable[[str], bytes | None]  # relpath under feeds/ -> bytes, None when there is no such file


def reader(feeds: Path) -> Read:
    """Read files of a feeds folder by relpath."""

    def read(relpath: str) -> bytes | None:
        path = feeds / relpath
        return path.read_bytes() if path.is_file() else None

    return read


def _load(read: Read, url: str) -> dict[str, Any]:
    assert url.startswith(FEEDS_URL), url
    data = read(url.removeprefix(FEEDS_URL))
    assert data is not None, f"a link leads to a file that was never written: {url}"
    doc: dict[str, Any] = json.loads(data)
    return doc


def history(feeds: Path | Read, language: str) -> list[str]:
    """Entry ids of a language's current JSON Feed and every archive page reached through `next_url`
    (JSON Feed's prev-archive), newest first; fails on a link to a missing document."""
    read = reader(feeds) if isinstance(feeds, Path) else feeds
    ids: list[str] = []
    url: str | None = f"{FEEDS_URL}{language}/feed.json"
    seen: set[str] = set()
    while url:
        assert url not in seen, f"archive links loop at {url}"
        seen.add(url)
        doc = _load(read, url)
        ids += [str(item["id"]) for item in doc["items"]]
        url = doc.get("next_url")
    return ids


def keys(ids: list[str]) -> list[str]:
    """Article keys of entry ids (…/<lang>/<source>/<key>.html), sorted."""
    return sorted(i.rsplit("/", 1)[-1].removesuffix(".html") for i in ids)
