"""The W3C Feed Validation Service's OPML rules, as a checker the tests can run (the validator is not on PyPI).

Each rule is named after the event the validator logs (github.com/w3c/feedvalidator, src/feedvalidator/opml.py
and the validators it uses); tests/data/opml/cases.toml holds a document per rule with the events it must give,
so the checker is shown to find what the validator finds. Events the validator logs as information only are left
out. docs/feeds.md says how to run the real validator on index.opml.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from babel import Locale, UnknownLocaleError
from lxml import etree

OPML_VERSIONS = ("1.0", "1.1", "2.0")
HEAD_ELEMENTS = {"title", "dateCreated", "dateModified", "ownerName", "ownerEmail", "ownerId", "expansionState", "vertScrollState", "windowTop", "windowLeft", "windowBottom", "windowRight"}  # fmt: skip
OUTLINE_ATTRIBUTES = {"category", "created", "description", "htmlUrl", "isBreakpoint", "isComment", "language",
                      "text", "title", "type", "url", "version", "xmlUrl"}  # fmt: skip
OUTLINE_VERSIONS = ("RSS", "RSS1", "RSS2", "scriptingNews")
# Attributes that say an outline is something (a feed, a link) and so call for a `type`.
TYPED_BY = ("description", "htmlUrl", "language", "title", "version", "xmlUrl")
# rfc2396_full: a scheme, then only characters a URI may hold.
FULL_URI = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+\Z")
DATES = ("created",)
EXPANSION_STATE = re.compile(r"(\d+(,\s*\d+)*)?\Z")


def _language(value: str) -> bool:
    try:
        Locale.parse(value.split("-", 1)[0])
    except (UnknownLocaleError, ValueError):
        return False
    return True


def _rfc822(value: str) -> bool:
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


def opml_events(data: bytes) -> list[str]:
    """The validator's warnings and errors for an OPML document, as "Event: where" strings (empty: clean)."""
    root = etree.fromstring(data)
    events: list[str] = []
    if root.tag != "opml":
        return [f"UndefinedElement: {root.tag}"]
    version = root.get("version")
    if version is None:
        events.append("MissingAttribute: opml version")
    elif version not in OPML_VERSIONS:
        events.append(f"InvalidOPMLVersion: {version}")
    for name in ("head", "body"):
        if root.find(name) is None:
            events.append(f"MissingElement: {name}")
    for child in root.iterchildren(tag=etree.Element):
        if child.tag not in ("head", "body"):
            events.append(f"UndefinedElement: opml {child.tag}")
    head = root.find("head")
    for child in head.iterchildren(tag=etree.Element) if head is not None else ():
        if child.tag not in HEAD_ELEMENTS:
            events.append(f"UndefinedElement: head {child.tag}")
        elif child.tag in ("dateCreated", "dateModified") and not _rfc822(child.text or ""):
            events.append(f"InvalidRFC2822Date: {child.tag}")
        elif child.tag == "expansionState" and not EXPANSION_STATE.match(child.text or ""):
            events.append("InvalidExpansionState: head")
    body = root.find("body")
    if body is not None:
        if body.find("outline") is None:
            events.append("MissingElement: outline")
        for outline in body.iter("outline"):
            events.extend(_outline(outline, version or ""))
    return events


def _outline(outline: etree._Element, version: str) -> list[str]:
    attrs = dict(outline.attrib)
    where = attrs.get("text") or attrs.get("xmlUrl") or "outline"
    events = [f"UnexpectedAttribute: {where} {name}" for name in attrs if name not in OUTLINE_ATTRIBUTES]
    if "text" not in attrs:
        events.append(f"MissingAttribute: {where} text")
    kind = attrs.get("type", "").lower()
    if "type" in attrs:
        if kind == "rss":
            if "xmlUrl" not in attrs:
                events.append(f"MissingXmlURL: {where}")
            if "title" not in attrs:
                events.append(f"MissingTitleAttr: {where}")
        elif kind == "link":
            if "url" not in attrs:
                events.append(f"MissingUrlAttr: {where}")
        elif version.startswith("1."):
            events.append(f"InvalidOutlineType: {where} {attrs['type']}")
    elif len(attrs) > 1 and any(name in attrs for name in TYPED_BY):
        events.append(f"MissingOutlineType: {where}")
    if "version" in attrs and attrs["version"] not in OUTLINE_VERSIONS:
        events.append(f"InvalidOutlineVersion: {where} {attrs['version']}")
    for name in ("htmlUrl", "url"):  # (xmlUrl is not checked)
        if name in attrs and not FULL_URI.match(attrs[name]):
            events.append(f"InvalidFullLink: {where} {name}")
    for name in ("isBreakpoint", "isComment"):
        if name in attrs and attrs[name] not in ("true", "false"):
            events.append(f"InvalidTrueFalse: {where} {name}")
    if "language" in attrs and not _language(attrs["language"]):
        events.append(f"InvalidLanguage: {where} {attrs['language']}")
    for name in DATES:
        if name in attrs and not _rfc822(attrs[name]):
            events.append(f"InvalidRFC2822Date: {where} {name}")
    if (outline.text or "").strip():
        events.append(f"UnexpectedText: {where}")
    return events
