"""Stable article keys and canonical URLs: what makes two sightings the same article."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}\Z")
# Query parameters that only say how a reader arrived, never which article it is.
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|yclid|igshid|ref_src)\Z", re.I)


def canonical_url(url: str, base: str = "") -> str:
    """The URL two sources agree on: scheme and host lowercased, default port, tracking params and fragment dropped."""
    url = (url or "").strip()
    if not url:
        return ""
    if base:
        url = join_url(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def join_url(base: str, href: str) -> str:
    """`href` made absolute against `base`; "" when either is not a parseable URL (hostile pages)."""
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return ""


def split_url(url: str) -> SplitResult:
    """urlsplit that never raises: an unparseable URL splits into empty parts."""
    try:
        return urlsplit(url)
    except ValueError:
        return SplitResult("", "", "", "", "")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def stable_key(guid: str = "", link: str = "", title: str = "") -> str:
    """The article's key within its source: the upstream GUID when it is short and safe, else a hash.

    Without a GUID the key comes from the canonical link (so an edited title is an update, not a new
    article); only an item with neither GUID nor link is keyed by its title.
    """
    guid = (guid or "").strip()
    if guid:
        return guid if _SAFE_KEY.match(guid) else "g-" + _digest(guid)
    link = canonical_url(link)
    if link:
        return "u-" + _digest(link)
    return "t-" + _digest(" ".join((title or "").split()).lower())
