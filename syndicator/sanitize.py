"""HTML that is safe to hand to any feed reader, whatever a source sent."""

from __future__ import annotations

import html as _html
from urllib.parse import urlsplit

import nh3

# Tags a news article needs; nh3 (ammonia) drops scripts, styles, event handlers and javascript: URLs.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p",
    "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}


def clean_html(html: str) -> str:
    """Sanitized HTML: only harmless tags, attributes and URL schemes survive."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def safe_url(url: str) -> str:
    """The URL if it is http(s) (for links and images built outside HTML bodies), else ""."""
    url = url.strip()
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def plain_text(text: str) -> str:
    """Text without any markup, for titles and summaries (which many readers render as HTML anyway)."""
    # Repeat: unescaping "&lt;b&gt;" makes a tag that must go too.
    for _ in range(5):
        stripped = _html.unescape(nh3.clean(text, tags=set()))
        if stripped == text:
            break
        text = stripped
    return text.strip()
