"""Localized entries: categories through catalogs or a glossary hook, safe URLs, the lead image."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syndicator.config import load_config
from syndicator.localize import Catalogs
from syndicator.models import DONE, Article, Translation
from syndicator.publish.entries import EntryBuilder
from tests.conftest import write_config

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
ARTICLE = Article(
    id=1, source="newsroom", key="bridge", language="en", title="Bridge", summary="", body_html="<p>Open.</p>",
    author="", tags=("transport", "bridge"), image="https://news.example.org/b.jpg", url="javascript:alert(1)",
    published=WHEN, first_seen=WHEN, updated=WHEN, content_hash="h",
)  # fmt: skip
FRENCH = Translation(1, "fr", DONE, "Pont", "", "<p>Ouvert.</p>", updated=WHEN)


def _builder(tmp_path: Path, **kwargs: object) -> EntryBuilder:
    write_config(tmp_path, targets=("fr",), engine="pseudo")
    (tmp_path / "articles").mkdir()
    po = tmp_path / "locales" / "fr" / "LC_MESSAGES" / "syndicator.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "transport"\nmsgstr "transports"\n', encoding="utf-8")  # fmt: skip
    config = load_config(tmp_path / "config" / "syndicator.toml")
    return EntryBuilder(config, Catalogs(tmp_path / "locales"), **kwargs)  # type: ignore[arg-type]


def test_categories_of_translations_come_from_the_catalog(tmp_path: Path) -> None:
    builder = _builder(tmp_path)
    assert builder.localize(ARTICLE, "fr", FRENCH, {"en", "fr"}).entry.categories == ("transports", "bridge")
    assert builder.localize(ARTICLE, "en", None, {"en", "fr"}).entry.categories == ("transport", "bridge")


def test_a_glossary_can_replace_the_catalog_for_categories(tmp_path: Path) -> None:
    builder = _builder(tmp_path, tags=lambda tag, language: f"{tag}@{language}")
    assert builder.localize(ARTICLE, "fr", FRENCH, {"en", "fr"}).entry.categories == (
        "transport@fr",
        "bridge@fr",
    )


def test_unsafe_original_url_falls_back_to_the_original_page_and_image_is_shown(tmp_path: Path) -> None:
    entry = _builder(tmp_path).localize(ARTICLE, "fr", FRENCH, {"en", "fr"}).entry
    assert "javascript" not in entry.content_html
    assert 'href="https://news.example.org/feeds/en/newsroom/bridge.html" hreflang="en"' in entry.content_html
    assert entry.image == "https://news.example.org/b.jpg"
    assert '<img src="https://news.example.org/b.jpg" alt="">' in entry.content_html


def test_glossary_terms_come_before_the_catalog(tmp_path: Path) -> None:
    from syndicator.glossary import Glossary, Term

    glossary = Glossary((Term("transport", {"fr": "mobilité"}), Term("bridge", keep=True)))
    builder = _builder(tmp_path, glossary=glossary)
    assert builder.localize(ARTICLE, "fr", FRENCH, {"en", "fr"}).entry.categories == ("mobilité", "bridge")
    plain = EntryBuilder(builder.config, builder.catalogs)
    assert builder.signature("fr") != plain.signature("fr")  # a glossary edit republishes
