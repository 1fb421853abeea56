"""Compare the published tree with the store: what is wrong, and which documents repair it.

Two depths. `check_structure` is cheap enough for every start: per language, every archive page the store
files entries in exists in all three formats, no page lies past the last one, and the current feed exists
and links the newest page. `audit_language` is what `syndicator verify` runs: it reads every document and
checks that every public entry readable in the language is in exactly one of the current feed and the
archive pages (the one the store files it in, the same in RSS, Atom and JSON Feed), that the RFC 5005 links
(current, prev-archive, next-archive) are the ones the store implies, that every link into the published
tree leads to a file, that every entry page exists, and that gzip copies hold their file's bytes.

Every finding carries the repair that fixes it (`Repairs`): the publisher rebuilds those documents from the
store, which is the truth; nothing here writes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

import lxml.etree
import lxml.html

from syndicator.models import Article
from syndicator.publish.entries import EntryBuilder, entry_path
from syndicator.publish.feeds import ATOM_FILE, JSON_FILE, RSS_FILE
from syndicator.publish.media import is_media_file
from syndicator.publish.precompress import gzip_holds
from syndicator.publish.publisher import ARCHIVE_DIR, Repairs, archive_folder, archive_page_of
from syndicator.publish.writer import FeedWriter
from syndicator.store import Store

log = logging.getLogger(__name__)

FEED_FILES = (RSS_FILE, ATOM_FILE, JSON_FILE)
_ATOM = "{http://www.w3.org/2005/Atom}"
# Our own files, but read back from a folder anyone with access could have edited: no entities, no network.
_XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class Finding:
    """One thing wrong in the published tree."""

    language: str  # "" for site-wide documents
    path: str  # the document (relpath under feeds/)
    message: str
    # What the admin must do when republishing from the store (verify --repair) cannot fix it; "" when it can.
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class LanguageAudit:
    """What checking one language found, and the repairs that fix it."""

    language: str
    findings: list[Finding] = field(default_factory=list)
    repairs: Repairs = field(default_factory=Repairs)
    documents: int = 0  # feed documents read
    entries: int = 0  # public entries expected

    def add(self, path: str, message: str, fix: str = "") -> None:
        self.findings.append(Finding(self.language, path, message, fix))


def _document(language: str, page: int, name: str) -> str:
    return f"{archive_folder(language, page)}/{name}" if page else f"{language}/{name}"


def check_structure(store: Store, tree: FeedWriter, language: str, feeds_url: str) -> LanguageAudit:
    """The cheap check (every start): documents the store implies exist, none past the last page, the
    current feed links the newest page and its entries' own pages exist. A language whose current feed is
    gone altogether (a lost or emptied feeds folder) is republished in full."""
    audit = LanguageAudit(language)
    if store.publish_mark(language) is None:
        return audit  # never published: nothing to compare yet
    if all(tree.read(_document(language, 0, name)) is None for name in FEED_FILES):
        audit.add(f"{language}/", "the current feed is gone: republishing the language in full")
        audit.repairs.rebuild = True
        return audit
    last, _ = store.last_page(language)
    present = set(tree.list(f"{language}/{ARCHIVE_DIR}/"))
    for page in range(1, last + 1):
        for name in FEED_FILES:
            path = _document(language, page, name)
            if path not in present:
                audit.add(path, f"missing: the store files entries in archive page {page}")
                audit.repairs.pages.add(page)
    for path in sorted(present):
        number = archive_page_of(language, path)
        name = path.rsplit("/", 1)[-1].removesuffix(".gz")
        if number is not None and (number < 1 or number > last) and name in FEED_FILES:
            audit.add(path, f"archive page {number} is past the last page the store knows ({last})")
            audit.repairs.remove.add(path.removesuffix(".gz"))
    expected = f"{feeds_url}{_document(language, last, JSON_FILE)}" if last else None
    for name in FEED_FILES:
        path = _document(language, 0, name)
        data = tree.read(path)
        if data is None:
            audit.add(path, "missing: the current feed")
            audit.repairs.current = True
        elif name == JSON_FILE:
            try:
                next_url = json.loads(data).get("next_url")
            except (ValueError, AttributeError):
                audit.add(path, "not a JSON Feed document")
                audit.repairs.current = True
                continue
            if next_url != expected:
                audit.add(path, f"links {next_url or 'no archive page'} as its prev-archive, not {expected}")
                audit.repairs.current = True
    for article in store.articles(store.feed_pages(language)):
        path = entry_path(article, language)
        if tree.read(path) is None:
            audit.add(path, "missing: the own page of an entry in the current feed")
            audit.repairs.entries.add(article.id)
    return audit


@dataclass(frozen=True)
class _Parsed:
    ids: list[str]  # entry ids, in document order
    history: dict[str, list[str]]  # rel (current, prev-archive, next-archive) -> hrefs
    links: list[str]  # every URL the document links to


def _parse_feed(name: str, data: bytes) -> _Parsed:
    """Entry ids and links of one RSS, Atom or JSON Feed document; ValueError if it is not one."""
    if name == JSON_FILE:
        doc = json.loads(data)
        items = doc["items"]
        history: dict[str, list[str]] = {}
        if doc.get("next_url"):
            history["prev-archive"] = [doc["next_url"]]
        meta = doc.get("_syndicator") or {}
        if (meta.get("archive") or {}).get("current"):
            history["current"] = [meta["archive"]["current"]]
        links = [doc.get("feed_url", ""), *(t["url"] for t in meta.get("translations", []))]
        for item in items:
            links += [
                item.get("url", ""),
                *(t["url"] for t in (item.get("_syndicator") or {}).get("translations", [])),
            ]
        return _Parsed([str(i["id"]) for i in items], history, [u for u in links if u])
    try:
        root = lxml.etree.fromstring(data, _XML)
    except lxml.etree.XMLSyntaxError as exc:
        raise ValueError(str(exc)) from exc
    history = {}
    links = []
    for el in root.iter(f"{_ATOM}link"):
        href = el.get("href", "")
        links.append(href)
        parent = el.getparent()
        feed_level = parent is root or (parent is not None and parent.tag == "channel")
        if feed_level and el.get("rel") in ("current", "prev-archive", "next-archive"):
            history.setdefault(el.get("rel", ""), []).append(href)
    if name == ATOM_FILE:
        ids = [el.findtext(f"{_ATOM}id", "") for el in root.iter(f"{_ATOM}entry")]
    else:
        ids = [el.findtext("guid", "") for el in root.iter("item")]
        links += [el.findtext("link", "") for el in root.iter("item")]
    return _Parsed(ids, history, [u for u in links if u])


def _html_links(data: bytes) -> list[str]:
    try:
        root = lxml.html.document_fromstring(data)
    except (lxml.etree.ParserError, ValueError):
        return []
    return [url for el in root.iter() for attr in ("href", "src") if (url := el.get(attr))]


class PublishedFiles:
    """The published files, listed once: link targets are looked up, not stat'ed one by one."""

    def __init__(self, tree: FeedWriter, feeds_url: str) -> None:
        self.tree = tree
        self.feeds_url = feeds_url
        self.files = set(tree.list())
        self.held: set[str] | None = None  # the store's media paths (audit_language fills it in)

    def unresolved(self, base: str, urls: Iterable[str]) -> list[str]:
        """The links among urls (relative to the document at relpath `base`) into the tree with no file."""
        missing = []
        for url in urls:
            absolute, _ = urldefrag(urljoin(self.feeds_url + base, url))
            if absolute.startswith(self.feeds_url):
                rel = absolute[len(self.feeds_url) :].split("?", 1)[0]
                if rel and rel not in self.files:
                    missing.append(url)
        return missing

    def unfixable(self, base: str, dead: Iterable[str]) -> str:
        """What the admin must do about dead links (from the document at `base`) that republishing cannot
        bring back: published files (media/…) the store does not hold either. "" when republishing will do."""
        if self.held is None:
            return ""
        paths = {urldefrag(urljoin(self.feeds_url + base, url))[0][len(self.feeds_url) :] for url in dead}
        lost = sorted(p for p in paths if is_media_file(p) and p not in self.held)
        if not lost:
            return ""
        return (
            f"the store does not hold {', '.join(lost)} either, so --repair cannot publish it: put the file "
            "back beside its article in the drop folder and `touch` the article (the next run stores the "
            "file again), or restore data/ from a backup; then run `syndicator verify --repair`"
        )


def audit_language(
    store: Store,
    tree: FeedWriter,
    builder: EntryBuilder,
    language: str,
    keep: Callable[[Article], bool],
    *,
    gzip_files: bool = False,
    files: PublishedFiles | None = None,
) -> LanguageAudit:
    """The full check of one language (reads every document and entry page of it)."""
    feeds_url = builder.config.site.feeds_url
    files = files or PublishedFiles(tree, feeds_url)
    if files.held is None:
        files.held = set(store.media_names())
    audit = check_structure(store, tree, language, feeds_url)
    if store.publish_mark(language) is None:
        audit.add(f"{language}/", "never published")
        audit.repairs.current = True
        return audit
    placed = store.all_feed_pages(language)
    last = max((p for p in placed.values() if p is not None), default=0)
    readable = set(store.readable_ids(language))
    articles = {a.id: a for a in store.articles(readable | set(placed))}
    public = {i for i in readable if keep(articles[i])}
    audit.entries = len(public)
    guid = {i: builder.url(entry_path(a, language)) for i, a in articles.items()}
    article_of = {g: i for i, g in guid.items()}

    where: dict[str, list[str]] = {}  # entry id -> the documents (JSON Feed path) it appears in
    for page in range(0, last + 1):
        expected = {guid[i] for i, p in placed.items() if (p or 0) == page and i in public}
        bad = _audit_document(audit, files, language, page, last, expected, where, feeds_url)
        if bad:
            if page:
                audit.repairs.pages.add(page)
            else:
                audit.repairs.current = True
    for entry, documents in sorted(where.items()):
        if len(documents) > 1:
            audit.add(documents[0], f"{entry} is also in {', '.join(documents[1:])}")
    for i in sorted(public - set(placed)):
        audit.add(f"{language}/", f"{guid[i]} is readable but in no document")
        audit.repairs.entries.add(i)
    for i in sorted(public):
        path = entry_path(articles[i], language)
        data = tree.read(path) if path in files.files else None
        if data is None:
            audit.add(path, "missing: the entry's own page")
            audit.repairs.entries.add(i)
            continue
        if dead := files.unresolved(path, _html_links(data)):
            audit.add(
                path,
                f"links to files that do not exist: {', '.join(sorted(set(dead)))}",
                files.unfixable(path, dead),
            )
            audit.repairs.entries.add(i)
    for path in sorted(files.files):
        if path.startswith(f"{language}/") and path.endswith(".html") and path.count("/") == 2:
            owner = article_of.get(f"{feeds_url}{path}")
            if owner is None or owner not in public:
                audit.add(path, "an entry page of nothing public in this language")
                audit.repairs.remove.add(path)
    if gzip_files:
        _audit_gzip(audit, files, language, placed, articles, public)
    return audit


def start_up_repairs(store: Store, tree: FeedWriter, language: str, feeds_url: str) -> Repairs:
    """`check_structure` at the first publish of a process: log what is wrong; return its repairs."""
    audit = check_structure(store, tree, language, feeds_url)
    for finding in audit.findings:
        log.warning("published tree: %s; repairing it from the store", finding)
    return audit.repairs


def _audit_document(
    audit: LanguageAudit,
    files: PublishedFiles,
    language: str,
    page: int,
    last: int,
    expected: set[str],
    where: dict[str, list[str]],
    feeds_url: str,
) -> bool:
    """Check one document (current feed: page 0) in its three formats; True if it needs rebuilding."""
    bad = False
    ids_of: dict[str, list[str]] = {}
    for name in FEED_FILES:
        path = _document(language, page, name)
        data = files.tree.read(path) if path in files.files else None
        if data is None:
            bad = True  # check_structure reported it
            continue
        audit.documents += 1
        try:
            parsed = _parse_feed(name, data)
        except (ValueError, KeyError, TypeError) as exc:
            audit.add(path, f"cannot be read: {exc}")
            bad = True
            continue
        ids_of[name] = parsed.ids
        want = _history(language, page, last, name, feeds_url)
        if parsed.history != want:
            audit.add(path, f"RFC 5005 links are {parsed.history or 'none'}, not {want or 'none'}")
            bad = True
        if dead := files.unresolved(path, parsed.links):
            audit.add(
                path,
                f"links to files that do not exist: {', '.join(sorted(set(dead)))}",
                files.unfixable(path, dead),
            )
            bad = True
        if len(set(parsed.ids)) != len(parsed.ids):
            audit.add(path, "has an entry twice")
            bad = True
        if set(parsed.ids) != expected:
            lost, extra = sorted(expected - set(parsed.ids)), sorted(set(parsed.ids) - expected)
            audit.add(
                path,
                "does not hold what the store files there"
                + (f"; missing {len(lost)}: {', '.join(lost[:5])}" if lost else "")
                + (f"; not filed here {len(extra)}: {', '.join(extra[:5])}" if extra else ""),
            )
            bad = True
    for entry in ids_of.get(JSON_FILE, []):
        where.setdefault(entry, []).append(_document(language, page, JSON_FILE))
    return bad


def _history(language: str, page: int, last: int, name: str, feeds_url: str) -> dict[str, list[str]]:
    """The RFC 5005 links the store implies for a document (JSON Feed: only its next_url, i.e. prev-archive,
    and the current document of an archive page)."""
    want: dict[str, list[str]] = {}
    if page:
        want["current"] = [f"{feeds_url}{_document(language, 0, name)}"]
    prev = last if page == 0 else page - 1
    if prev:
        want["prev-archive"] = [f"{feeds_url}{_document(language, prev, name)}"]
    if page and page < last and name != JSON_FILE:
        want["next-archive"] = [f"{feeds_url}{_document(language, page + 1, name)}"]
    return want


def _audit_gzip(
    audit: LanguageAudit,
    files: PublishedFiles,
    language: str,
    placed: dict[int, int | None],
    articles: dict[int, Any],
    public: set[int],
) -> None:
    """Every .gz copy of a language's documents holds exactly its file's bytes."""
    for path in sorted(files.files):
        if not (path.startswith(f"{language}/") and path.endswith(".gz")):
            continue
        base = path.removesuffix(".gz")
        data, copy = files.tree.read(base), files.tree.read(path)
        if data is not None and copy is not None and gzip_holds(copy, data):
            continue
        if data is None:  # a copy of nothing; if the file is due, its repair writes both
            audit.add(path, f"a gzip copy of {base}, which does not exist")
            audit.repairs.remove.add(path)
            continue
        audit.add(path, f"does not hold the bytes of {base}")
        page = archive_page_of(language, base)
        if page is not None:
            audit.repairs.pages.add(page)
        elif base.count("/") == 1:
            audit.repairs.current = True  # the current feed, or feed.xsl (rewritten by every publish)
        else:
            audit.repairs.entries |= {i for i in public if base == entry_path(articles[i], language)}


def audit_site(
    tree: FeedWriter, feeds_url: str, languages: Sequence[str], files: PublishedFiles | None = None
) -> list[Finding]:
    """The site-wide documents (index.html, index.opml, each language's feed.xsl) exist and their links lead
    to files. Every publish rewrites them, so a publish is their repair."""
    files = files or PublishedFiles(tree, feeds_url)
    findings = []
    for path in ("index.html", "index.opml", *(f"{lang}/feed.xsl" for lang in languages)):
        data = tree.read(path) if path in files.files else None
        if data is None:
            findings.append(Finding("", path, "missing"))
            continue
        copy = tree.read(f"{path}.gz") if f"{path}.gz" in files.files else None
        if copy is not None and not gzip_holds(copy, data):
            findings.append(Finding("", f"{path}.gz", f"does not hold the bytes of {path}"))
        if path.endswith(".opml"):
            try:
                root = lxml.etree.fromstring(data, _XML)
            except lxml.etree.XMLSyntaxError as exc:
                findings.append(Finding("", path, f"cannot be read: {exc}"))
                continue
            urls = [u for el in root.iter("outline") for a in ("xmlUrl", "htmlUrl") if (u := el.get(a))]
        elif path.endswith(".html"):
            urls = _html_links(data)
        else:
            continue
        if dead := files.unresolved(path, urls):
            findings.append(
                Finding("", path, f"links to files that do not exist: {', '.join(sorted(set(dead)))}")
            )
    return findings
