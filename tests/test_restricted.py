"""Restricted means restricted: compared casefolded and NFKC-normalized, and gone from every published file
(every format, archives, entry pages, gzip copies, the landing page) as soon as it leaves public view."""

from __future__ import annotations

import gzip
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.localize import Catalogs
from syndicator.partners import Partner, hash_token, load_partners, normalize_tag, public
from syndicator.publish import LocalFolderWriter
from syndicator.serve.partner_feeds import build_partner_feeds
from syndicator.store import Store

SECRET = "Zebracrossing"  # in the restricted article's title and body: found by a grep if it leaks
TOKEN = "token-embassy-" + "a" * 30


def _article(tags: list[str]) -> str:
    return textwrap.dedent(
        f"""\
        ---
        title: {SECRET} plans
        date: 2026-02-01T08:00:00+08:00
        id: plans
        tags: {json.dumps(tags)}
        ---
        The {SECRET} plans are not public yet.
        """
    )


def _filler(n: int) -> str:
    return (
        f"---\ntitle: Filler {n}\ndate: 2026-03-0{n}T08:00:00+08:00\nid: filler-{n}\n---\nRoutine news {n}.\n"
    )


def _partners(restricted: str) -> str:
    return textwrap.dedent(
        f"""\
        restricted = ["{restricted}"]

        [[partner]]
        name = "embassy"
        token_sha256 = "{hash_token(TOKEN)}"
        restricted = ["EMBARGOED"]
        """
    )


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _leaks(root: Path) -> list[str]:
    """Every published file (gzip copies unpacked) that mentions the restricted article."""
    found = []
    for path in sorted((root / "feeds").rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if SECRET.encode() in data or b"/plans.html" in data:
            found.append(path.relative_to(root / "feeds").as_posix())
    return found


@pytest.fixture
def root(make_instance: Callable[..., Path]) -> Path:
    # Two entries per document, so the article sits in a full archive page once newer ones arrive.
    root = make_instance(
        articles=[], engine="pseudo", targets=("fr",),
        extra="\n[serve]\nport = 0\ngzip_files = true\n\n[publish]\nmax_entries = 2\n",
    )  # fmt: skip
    (root / "config" / "partners.toml").write_text(_partners("embargoed"), encoding="utf-8")
    for n in range(1, 6):
        (root / "articles" / f"filler-{n}.md").write_text(_filler(n), encoding="utf-8")
    return root


def test_restricted_article_leaves_and_rejoins_every_published_file(root: Path) -> None:
    plans = root / "articles" / "plans.md"
    plans.write_text(_article(["news"]), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    public_files = _leaks(root)
    assert {"en/newsroom/plans.html", "fr/newsroom/plans.html", "fr/newsroom/plans.html.gz"} <= set(
        public_files
    )
    assert any("/archive/" in f for f in public_files)  # it sits in a full archive page

    # Restrict it by a tag spelled otherwise (case and fullwidth forms): it must leave every file.
    plans.write_text(_article(["ＥＭＢＡＲＧＯＥＤ"]), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert _leaks(root) == []

    # Public again: back in its pages, feeds and archive page.
    plans.write_text(_article(["news"]), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert set(_leaks(root)) == set(public_files)

    # Restricted through partners.toml instead (the list changes, not the article), then a full rebuild.
    (root / "config" / "partners.toml").write_text(_partners("News"), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert _leaks(root) == []
    assert _cli(root, "publish", "--rebuild") == 0
    assert _leaks(root) == []
    (root / "config" / "partners.toml").write_text(_partners("embargoed"), encoding="utf-8")
    assert _cli(root, "publish", "--rebuild") == 0
    assert set(_leaks(root)) == set(public_files)


def test_a_partner_granted_the_category_gets_it_whatever_its_spelling(root: Path) -> None:
    for filler in (root / "articles").glob("filler-*.md"):  # partner feeds hold the newest max_entries
        filler.unlink()
    (root / "articles" / "plans.md").write_text(_article(["Embargoed"]), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert _leaks(root) == []
    config = load_config(root / "config" / "syndicator.toml")
    store = Store(config.store.url)
    try:
        partners = load_partners(config.partners_file, config.languages.all)
        embassy = partners.by_name("embassy")
        assert embassy is not None
        files = build_partner_feeds(
            config,
            store,
            Catalogs(config.publish.locales_dir),
            embassy,
            partners.restricted,
            "fr",
            "https://x/p/",
        )
        assert SECRET.encode() in files["atom.xml"]
        nobody = Partner("nobody", "0" * 64)
        files = build_partner_feeds(
            config,
            store,
            Catalogs(config.publish.locales_dir),
            nobody,
            partners.restricted,
            "fr",
            "https://x/p/",
        )
        assert SECRET.encode() not in files["atom.xml"]
    finally:
        store.close()


@pytest.mark.parametrize(
    "spelling",
    [
        "Embargoed", "EMBARGOED", "ｅｍｂａｒｇｏｅｄ", " embargoed ",
        # What a reader cannot see (issue 10's attack): soft hyphen, zero-width space and joiner, bidi
        # override and isolate, byte-order mark, a variation selector, a combining grapheme joiner.
        "em\u00adbargoed", "embar\u200bgoed", "embargo\u200ded", "\u202eembargoed", "\u2067embargoed\u2069",
        "\ufeffembargoed", "embargoed\ufe0f", "embar\u034fgoed", "embargoed\u00a0",
    ],
)  # fmt: skip
def test_tags_compare_normalized(spelling: str) -> None:
    restricted = frozenset({"embargoed"})
    assert not public([spelling], restricted)
    assert not public(["embargoed"], frozenset({spelling}))
    assert public(["news"], frozenset({spelling}))
    assert normalize_tag(spelling) == "embargoed"
    grant = Partner("p", "0" * 64, restricted=frozenset({normalize_tag(spelling)}))
    assert grant.may_see([spelling.upper()], restricted)
    assert not Partner("q", "0" * 64).may_see([spelling], restricted)


def test_normalization_handles_what_casefold_undoes() -> None:
    # "ﬁ" (a ligature) is "fi" under NFKC; "ß" casefolds to "ss"; "K" (Kelvin sign) is K.
    assert normalize_tag("ﬁle") == normalize_tag("FILE")
    assert normalize_tag("Straße") == normalize_tag("STRASSE")
    assert normalize_tag("\u212a") == "k"
    # Turkish dotted capital I casefolds to "i" plus a combining dot.
    assert normalize_tag("CONFİDENTİAL") == normalize_tag("Confidential") == "confidential"
    assert normalize_tag("  two   words ") == "two words"


def test_writer_delete_is_atomic_idempotent_and_bounded(tmp_path: Path) -> None:
    store = LocalFolderWriter(tmp_path / "feeds")
    store.write("fr/newsroom/a.html", b"x")
    assert store.delete("fr/newsroom/a.html") is True
    assert store.read("fr/newsroom/a.html") is None and store.list() == []
    assert store.delete("fr/newsroom/a.html") is False  # twice is fine
    assert store.delete("never/was.html") is False
    with pytest.raises(ValueError):
        store.delete("../outside.html")


def test_static_site_tag_keys_restrict_too(root: Path) -> None:
    """Hugo/Jekyll `categories`, Jekyll `category`, `tag` and `keywords` are read as tags (docs/sources.md), so
    an article restricted under any of them never reaches a published file."""
    for key, value in (("categories", "[embargoed]"), ("category", "Embargoed"), ("tag", "embargoed"),
                       ("keywords", '"harbour, EMBARGOED"')):  # fmt: skip
        (root / "articles" / f"{key}.md").write_text(
            f"---\ntitle: {SECRET} under {key}\ndate: 2026-02-01T08:00:00+08:00\n{key}: {value}\n---\n{SECRET}.\n",
            encoding="utf-8",
        )
    assert _cli(root, "run", "--once") == 0
    assert _leaks(root) == []
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:  # stored, restricted by the tags read from those keys: not dropped unread
        tags = {
            a.title.split()[-1]: {t.casefold() for t in a.tags} for a in store.articles() if SECRET in a.title
        }
    finally:
        store.close()
    assert (
        tags == {k: {"embargoed"} | ({"harbour"} if k == "keywords" else set()) for k in tags}
        and len(tags) == 4
    )
