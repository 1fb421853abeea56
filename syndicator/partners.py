"""Partners (config/partners.toml): who may pull which languages and categories, by hashed token.

The file is re-read when its mtime changes, so an added, edited or removed token takes effect without a
restart. Tokens are never stored: only their SHA-256 (tokens are 256 random bits, so a fast hash is
enough), compared with hmac.compare_digest against every partner so timing tells nothing.
A broken edit fails closed: partners get 404 until the file is fixed, and the last good list of
restricted categories keeps hiding those entries from the public feeds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syndicator.config.files import Problems, read_toml
from syndicator.config.languages import is_language, language_hint, language_id
from syndicator.config.tomllines import KeyPath
from syndicator.errors import ConfigError
from syndicator.models import Article

log = logging.getLogger(__name__)

_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_PARTNER_KEYS = ("name", "token_sha256", "languages", "categories", "restricted", "enabled")
_TOP_KEYS = ("restricted", "partner")


def normalize_tag(tag: str) -> str:
    """A category as it is compared (restricted categories, partner grants): NFKC, casefolded, without marks
    or invisible characters, spaces collapsed.

    "Embargoed", "EMBARGOED", "ｅｍｂａｒｇｏｅｄ" (fullwidth) and "embargoed " are one category; casefolding
    can undo NFKC (e.g. "ǰ"), hence NFKC on both sides. Nothing a reader cannot see makes another category: a
    soft hyphen, a zero-width space or a bidi control inside "embargoed", or the dot Turkish "İ" leaves beside
    its "i" once casefolded ("CONFİDENTİAL"). Marks go too ("café" is "cafe"): comparing more loosely errs on
    the side of restricting.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", tag).casefold())
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if unicodedata.category(c) not in _UNSEEN)
    return " ".join(unicodedata.normalize("NFKC", bare).split())


# Unicode categories left out when categories are compared: marks (combining, enclosing), format characters
# (soft hyphen, zero-width joiners and spaces, bidi controls), controls.
_UNSEEN = frozenset({"Mn", "Me", "Cf", "Cc"})


def normalize_tags(tags: Iterable[str]) -> frozenset[str]:
    """A set of categories in the form they are compared in."""
    return frozenset(normalize_tag(t) for t in tags)


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Partner:
    """One partner organization."""

    name: str
    token_sha256: str
    languages: tuple[str, ...] = ()  # empty: every published language
    categories: frozenset[str] | None = None  # None: every public category (normalize_tag form)
    restricted: frozenset[str] = frozenset()  # restricted categories it also receives (normalize_tag form)
    enabled: bool = True

    def may_read(self, language: str, all_languages: Sequence[str]) -> bool:
        """Whether this partner may pull a language."""
        return language in all_languages and (not self.languages or language in self.languages)

    def receives(self, article: Article, restricted: frozenset[str]) -> bool:
        """Whether an article belongs in this partner's feeds: not taken down, and may_see its tags."""
        return article.withdrawn_at is None and self.may_see(article.tags, restricted)

    def may_see(self, tags: Sequence[str], restricted: frozenset[str]) -> bool:
        """Whether an article with these tags belongs in this partner's feeds (compared normalized)."""
        tagset = normalize_tags(tags)
        hidden = tagset & normalize_tags(restricted)
        if hidden and not hidden <= normalize_tags(self.restricted):
            return False
        if self.categories is None:
            return True
        return bool(tagset & normalize_tags(self.categories | self.restricted))


@dataclass(frozen=True)
class PartnerList:
    """The parsed partners file."""

    partners: tuple[Partner, ...] = ()
    restricted: frozenset[str] = frozenset()  # categories left out of the public feeds (normalize_tag form)

    def find(self, token: str) -> Partner | None:
        """The enabled partner holding token; every hash is compared, in constant time."""
        digest = hash_token(token)
        found = None
        for partner in self.partners:
            if hmac.compare_digest(digest, partner.token_sha256) and partner.enabled:
                found = partner
        return found

    def by_name(self, name: str) -> Partner | None:
        """The partner called name."""
        return next((p for p in self.partners if p.name == name), None)


def public(tags: Sequence[str], restricted: frozenset[str]) -> bool:
    """Whether an article with these tags may appear in the public feeds (compared normalized)."""
    return not (normalize_tags(tags) & normalize_tags(restricted))


def shown(article: Article, restricted: frozenset[str]) -> bool:
    """Whether an article belongs in the public feeds and pages: not taken down, no restricted tag."""
    return article.withdrawn_at is None and public(article.tags, restricted)


def load_partners(path: Path, languages: Sequence[str]) -> PartnerList:
    """Read and validate a partners file (absent: no partners); raise one ConfigError listing problems."""
    try:
        text, data = read_toml(path)
    except FileNotFoundError:
        return PartnerList()
    problems = Problems(path, text)
    problem = problems.add

    for key in data:
        if key not in _TOP_KEYS:
            problem((key,), "unknown setting", f"known keys: {', '.join(_TOP_KEYS)}")
    restricted = set(normalize_tags(_strings(data.get("restricted", []), ("restricted",), problem)))
    raw = data.get("partner", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        problem(("partner",), "expected [[partner]] tables", "start each partner with a [[partner]] line")
        raw = []
    partners: list[Partner] = []
    names: set[str] = set()
    hashes: set[str] = set()
    for i, entry in enumerate(raw):
        where: KeyPath = ("partner", i)
        for key in entry:
            if key not in _PARTNER_KEYS:
                problem((*where, key), "unknown setting", f"known keys: {', '.join(_PARTNER_KEYS)}")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problem((*where, "name"), f"bad or missing partner name {name!r}", 'e.g. name = "embassy-paris"')
            name = None
        elif name in names:
            problem((*where, "name"), f"duplicate partner name {name!r}", "names must be unique")
        token = entry.get("token_sha256")
        if not isinstance(token, str) or not _HEX64.match(token):
            problem(
                (*where, "token_sha256"),
                "bad or missing token_sha256 (64 lowercase hex digits)",
                "create one with: syndicator partners add NAME",
            )
            token = None
        elif token in hashes:
            problem((*where, "token_sha256"), "the same token is given to two partners", "use a new token")
        langs = _strings(entry.get("languages", []), (*where, "languages"), problem)
        # Compared as Babel ids ("pt_BR" is "pt-BR"), kept in the config's spelling, which feeds use.
        published = {language_id(code): code for code in languages}
        for j, lang in enumerate(langs):
            if not is_language(lang):
                problem((*where, "languages", j), f"unknown language {lang!r}", language_hint(lang))
            elif language_id(lang) not in published:
                problem(
                    (*where, "languages", j),
                    f"{lang!r} is not a published language",
                    f"published languages: {', '.join(languages)}",
                )
            else:
                langs[j] = published[language_id(lang)]
        cats = entry.get("categories")
        categories = None if cats is None else normalize_tags(_strings(cats, (*where, "categories"), problem))
        own = normalize_tags(_strings(entry.get("restricted", []), (*where, "restricted"), problem))
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            problem((*where, "enabled"), "expected true or false", "enabled = false revokes without deleting")
        if name and token:
            names.add(name)
            hashes.add(token)
            partners.append(Partner(name, token, tuple(langs), categories, own, enabled is not False))
            restricted |= own
    problems.raise_any()
    return PartnerList(tuple(partners), frozenset(restricted))


def _strings(value: Any, key: KeyPath, problem: Callable[..., None]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problem(key, "expected a list of non-empty strings", 'e.g. ["weather", "transport"]')
        return []
    return list(value)


class PartnerRegistry:
    """The partners file, re-read whenever its mtime (or size) changes."""

    def __init__(self, path: Path, languages: Sequence[str]) -> None:
        self.path = Path(path)
        self.languages = tuple(languages)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current = PartnerList()
        self._last_good_restricted: frozenset[str] = frozenset()
        self.error = ""  # the current file's problem, "" when it loaded

    def _stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except OSError:
            return (-1, -1)
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> PartnerList:
        """The partners as the file says now (one stat per call; a re-read only after a change)."""
        stamp = self._stat()
        if stamp == self._stamp:
            return self._current
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._current = load_partners(self.path, self.languages)
                    self._last_good_restricted = self._current.restricted
                    self.error = ""
                    if stamp == (-1, -1):
                        log.info("partners: none (no %s)", self.path)
                    else:
                        log.info("partners: %d loaded from %s", len(self._current.partners), self.path)
                except ConfigError as exc:
                    # Fail closed: a half-edited file must not keep a revoked token alive.
                    self._current = PartnerList(restricted=self._last_good_restricted)
                    self.error = str(exc)
                    log.error("partners file ignored until fixed; partner feeds answer 404: %s", exc)
                self._stamp = stamp
        return self._current

    def restricted(self) -> frozenset[str]:
        """Categories the public feeds leave out."""
        return self.current().restricted


def partner_block(name: str, token_hash: str, languages: Sequence[str]) -> str:
    """The TOML text of a new [[partner]] entry."""
    langs = ", ".join(f'"{lang}"' for lang in languages)
    return (
        f'\n[[partner]]\nname = "{name}"\ntoken_sha256 = "{token_hash}"\nlanguages = [{langs}]'
        "  # empty: every language\n# categories = []  # absent: every public category\n"
        "# restricted = []  # restricted categories this partner also receives\n"
    )


def add_partner(path: Path, name: str, languages: Sequence[str], all_languages: Sequence[str]) -> str:
    """Append a partner with a new token to the file (validated first); return the token.

    The arguments are checked first, by themselves: an error about them names the argument, never the temp
    file the new block is test-loaded from (which the user never wrote and cannot open).
    """
    _check_arguments(name, languages, all_languages)
    current = load_partners(path, all_languages)
    if current.by_name(name) is not None:
        raise ConfigError(
            f"partner {name!r} already exists", file=path, hint="pick another name or edit its token_sha256"
        )
    token = new_token()
    block = partner_block(name, hash_token(token), languages)
    existing = path.read_text(encoding="utf-8-sig") if path.exists() else _HEADER
    load_partners_text = existing + block
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(load_partners_text, encoding="utf-8")
    try:
        load_partners(tmp, all_languages)  # never leave a file the server would reject
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return token


def _check_arguments(name: str, languages: Sequence[str], all_languages: Sequence[str]) -> None:
    """Refuse a bad NAME or --languages value of `partners add`, naming the argument and a fix."""
    if not _NAME.match(name):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "embassy-paris"
        raise ConfigError(
            f"partner name {name!r}: use letters, digits, '.', '_' and '-' (no spaces), at most 64",
            hint=f"e.g. syndicator partners add {slug}",
        )
    published = {language_id(code) for code in all_languages}
    for lang in languages:
        if not is_language(lang):
            raise ConfigError(f"--languages: unknown language {lang!r}", hint=language_hint(lang))
        if language_id(lang) not in published:
            raise ConfigError(
                f"--languages: {lang!r} is not a published language",
                hint=f"published languages: {', '.join(all_languages)}",
            )


_HEADER = """\
# Partners allowed to pull feeds with a token (see docs/serving.md). Tokens are stored hashed.
# Add one with: syndicator partners add NAME --languages fr,en   (prints the token once)

# Categories (article tags) left out of the public feeds; partners listing them in `restricted` get them.
restricted = []
"""


def visible_versions(
    store: Any, language: str, limit: int, keep: Callable[[Article], bool]
) -> list[tuple[Any, Any]]:
    """The newest `limit` versions in a language whose article passes keep (fetching more when some are cut)."""
    fetch = limit
    while True:
        versions = store.versions(language, fetch)
        kept = [(a, t) for a, t in versions if keep(a)]
        if len(kept) >= limit or len(versions) < fetch:
            return kept[:limit]
        fetch *= 2
