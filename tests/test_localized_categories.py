"""Localized categories end to end: glossary first, then the gettext catalog, else the tag as written."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import feedparser

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.partners import hash_token
from syndicator.pipeline import open_context
from syndicator.serve.server import start_in_background
from tests.support.servers import fetch

TOKEN = "token-embassy-" + "e" * 30
GLOSSARY = """\
keep = ["culture"]

[term.bridge]
fr = "{bridge}"
"""
# The catalog has "bridge" too: the glossary wins over it.
CATALOG = '\nmsgid "transport"\nmsgstr "transports"\n\nmsgid "bridge"\nmsgstr "passerelle"\n\nmsgid "culture"\nmsgstr "la culture"\n'


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _tags(root: Path, language: str, body: bytes | None = None) -> dict[str, set[str]]:
    feed = feedparser.parse(
        body if body is not None else (root / "feeds" / language / "atom.xml").read_bytes()
    )
    assert not feed.bozo, feed.get("bozo_exception")
    return {e.id.rsplit("/", 1)[-1]: {t.term for t in e.get("tags", [])} for e in feed.entries}


def _instance(make_instance: Callable[..., Path], bridge: str = "pont") -> Path:
    root = make_instance(targets=("fr", "ar"), engine="pseudo")
    (root / "config" / "glossary.toml").write_text(GLOSSARY.format(bridge=bridge), encoding="utf-8")
    po = root / "locales" / "fr" / "LC_MESSAGES" / "syndicator.po"
    po.write_text(po.read_text(encoding="utf-8") + CATALOG, encoding="utf-8")
    return root


def test_glossary_terms_as_tags_are_translated_in_the_feeds(make_instance: Callable[..., Path]) -> None:
    root = _instance(make_instance)
    assert _cli(root, "run", "--once") == 0
    fr = _tags(root, "fr")
    assert fr["harbour-bridge.html"] == {"pont", "transports"}  # glossary; catalog
    assert fr["night-market.html"] == {"culture"}  # kept as written by the glossary, not the catalog's
    assert fr["school-garden.html"] == {"[fr] education"}  # in neither: the engine's translation
    assert _tags(root, "ar")["harbour-bridge.html"] == {
        "[ar] bridge",
        "[ar] transport",
    }  # no Arabic in either
    assert _tags(root, "en")["harbour-bridge.html"] == {"bridge", "transport"}  # the original's own tags

    # A new rendering of the term republishes the feeds that show it, with nothing else changed.
    (root / "config" / "glossary.toml").write_text(GLOSSARY.format(bridge="pont routier"), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    assert _tags(root, "fr")["harbour-bridge.html"] == {"pont routier", "transports"}


def test_partner_feeds_use_the_glossary_too(make_instance: Callable[..., Path]) -> None:
    root = _instance(make_instance)
    (root / "config" / "partners.toml").write_text(
        textwrap.dedent(f"""\
            [[partner]]
            name = "embassy"
            token_sha256 = "{hash_token(TOKEN)}"
            """),
        encoding="utf-8",
    )
    assert _cli(root, "run", "--once") == 0
    ctx = open_context(load_config(root / "config" / "syndicator.toml"))
    try:
        server = start_in_background(ctx)  # as `run` starts it, with the Context's glossary
        assert server is not None
        try:
            r = fetch(server.url, f"/feeds/p/{TOKEN}/fr/atom.xml")
            assert r.status == 200
            assert _tags(root, "fr", r.body)["harbour-bridge.html"] == {"pont", "transports"}
        finally:
            server.stop()
    finally:
        ctx.close()
