"""HTML that is safe to hand to any feed reader, whatever a source sent."""

from __future__ import annotations

import html as _html
import re
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
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


# Characters no document can carry: lone surrogates (JSON "\ud800" decodes to one; nh3, in Rust, cannot take
# them) and the controls and noncharacters XML 1.0 forbids (lxml refuses them; no reader shows them).
_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_html(html: str) -> str:
    """Sanitized HTML: only harmless tags, attributes and URL schemes survive, and what survives is valid.

    nh3 removes a link's unsafe href and an image's unsafe src but keeps the element, which leaves an
    <a> that goes nowhere and an <img> with nothing to show (and HTML requires alt): those are unwrapped,
    dropped and given an alt, then the result goes through nh3 once more, so nh3 has the last word.
    """
    cleaned = _nh3(_UNUSABLE.sub("", html))
    if not any(_incomplete(tag, attrs) for tag, attrs in _LINK_OR_IMAGE.findall(cleaned)):
        return cleaned  # the common case: no tree to build
    fixed = _fix_links_and_images(cleaned)
    return cleaned if fixed is None else _nh3(fixed)


def _incomplete(tag: str, attrs: str) -> bool:
    if tag == "a":
        return ' href="' not in attrs
    return ' src="' not in attrs or ' alt="' not in attrs


# <a …> and <img …> start tags in nh3's output, whose attribute values are always double-quoted and never
# hold a '"' (it is written &quot;): so the attributes can be read off exactly without parsing the document.
_LINK_OR_IMAGE = re.compile(r'<(a|img)((?:\s+[^\s="<>/]+(?:="[^"]*")?)*)\s*/?>')


def _nh3(html: str) -> str:
    cleaned: str = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    # The parser drops a byte order mark at the start: one that ends up there (after a removed element)
    # would vanish on the next pass, and a stored body must come out of publishing unchanged.
    return cleaned.lstrip("\ufeff")


def _fix_links_and_images(html: str) -> str | None:
    """Anchors without href unwrapped, images without src dropped, alt for every image; None: no change."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):  # nh3's output parses; if not, keep it as nh3 left it
        return None
    changed = False
    for anchor in root.xpath(".//a[not(@href) or normalize-space(@href)='']"):
        anchor.drop_tag()
        changed = True
    for image in root.xpath(".//img"):
        if not image.get("src", "").strip():
            image.drop_tree()  # keeps its tail text
            changed = True
        elif image.get("alt") is None:
            image.set("alt", _image_alt(image))
            changed = True
    if not changed:
        return None
    # The wrapper <div> lxml added, serialized by lxml and cut off again: the content is lxml's own output.
    wrapped: str = lxml.html.tostring(root, encoding="unicode")
    return wrapped[len("<div>") : -len("</div>")]


def _image_alt(image: Any) -> str:
    """The text an image stands for: its title, else the caption of its figure, else "" (decorative)."""
    title = " ".join(image.get("title", "").split())
    if title:
        return title
    figure = next((el for el in image.iterancestors() if el.tag == "figure"), None)
    caption = figure.find("figcaption") if figure is not None else None
    return " ".join(caption.text_content().split()) if caption is not None else ""


def safe_url(url: str) -> str:
    """The URL if it is http(s) (for links and images built outside HTML bodies), else ""."""
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed "[" in the host
        return ""
    return url if scheme in ("http", "https") else ""


def plain_text(text: str) -> str:
    """Text without any markup, for titles and summaries (which many readers render as HTML anyway).

    Tags are stripped and entities decoded until nothing changes: "&lt;b&gt;" decodes to a tag that must
    go too, however many times it was escaped. A round that changes the text removes a tag or an entity
    (shorter) or normalizes a character (NUL, CR) once, so a fixed point comes within 2 × len + 2 rounds.
    """
    text = _UNUSABLE.sub("", text).strip()
    for _ in range(2 * len(text) + 2):
        stripped = _html.unescape(nh3.clean(text, tags=set())).strip()
        if stripped == text:
            return text
        text = stripped
    # Not reached (the property test in tests/test_plain_text.py says so); never return markup all the same.
    return text.replace("<", "").replace("&", "")
