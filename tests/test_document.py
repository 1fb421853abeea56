"""Article translation: HTML structure kept, sentence memory reused, batching (pseudo engine)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from syndicator.config import TranslationConfig
from syndicator.glossary import Glossary, Term
from syndicator.models import Article
from syndicator.store import Store
from syndicator.translate import EngineOptions
from syndicator.translate.argos import ArgosEngine
from syndicator.translate.document import Faithful, translate_articles
from syndicator.translate.packages import install
from syndicator.translate.protect import TOKEN_RE
from syndicator.translate.pseudo import PseudoPair

NOW = datetime(2026, 3, 3, tzinfo=UTC)


def _article(i: int, body: str, title: str = "A title.") -> Article:
    return Article(
        id=i, source="s", key=f"k{i}", language="en", title=title, summary="One. Two.", body_html=body,
        author="", tags=(), image="", url="", published=NOW, first_seen=NOW, updated=NOW, content_hash=f"h{i}",
    )  # fmt: skip


def test_structure_links_and_code_survive(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    body = (
        '<p>First sentence. Read <a href="https://x.org/a">the report</a> now.</p>\n'
        "<ul><li>Item one</li><li>2026</li></ul><pre><code>keep = this</code></pre>"
    )
    (res,) = translate_articles(PseudoPair("en", "fr"), [_article(1, body)], store)
    assert res.error == ""
    assert res.title == "[fr] A title."
    assert res.summary == "[fr] One. [fr] Two."
    assert res.body_html.startswith(
        '<p>[fr] First sentence. [fr] Read <a href="https://x.org/a">the report</a> now.</p>'
    )  # the whole block goes to the model, the link as placeholders
    assert "<li>2026</li>" in res.body_html  # numbers alone are not sent to the model
    assert "<pre><code>keep = this</code></pre>" in res.body_html
    assert res.body_html.count("<li>") == 2


def test_memory_means_each_sentence_goes_to_the_model_once(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    pair = PseudoPair("en", "fr")
    articles = [_article(i, f"<p>Shared sentence. Unique {i}.</p>") for i in range(3)]
    translate_articles(pair, articles, store, batch_size=100)
    # title, two summary sentences, the shared sentence and "Unique 8001." (numbers are placeholders, so
    # the three unique sentences are one to the model): 5 sent once, the last send cut even for two workers
    assert pair.calls == [3, 2]
    edited = _article(1, "<p>Shared sentence. Changed now.</p>")
    (res,) = translate_articles(pair, [edited], store)
    assert pair.calls == [3, 2, 1]
    assert res.body_html == "<p>[fr] Shared sentence. [fr] Changed now.</p>"
    size, hits, misses = store.translation_memory_stats()["en>fr"]
    assert (size, misses) == (6, 6) and hits == 4


def test_chinese_target_joins_sentences_without_spaces(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    (res,) = translate_articles(PseudoPair("en", "zh"), [_article(1, "<p>One. Two.</p>")], store)
    assert res.body_html == "<p>[zh] One.[zh] Two.</p>"


def _faithful() -> Faithful:
    return Faithful(
        Glossary(
            (Term("Ocean Harbour Authority", {"fr": "Autorité portuaire de l'Océan"}), Term("OHA", keep=True))
        )
    )


def test_protected_blocks_dates_glossary_and_title_case(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    body = (
        '<p>The Ocean Harbour Authority (OHA) opens <a href="https://x.org/?a=1&amp;b=2">the <em>new</em> line</a>'
        " on March 3, 2026. It runs from May 12 to 14.</p><p>Call 555 or see https://x.org/t.</p>"
    )
    article = _article(1, body, title="Ocean Harbour Authority Opens A New Ferry Line On March 3")
    (res,) = translate_articles(PseudoPair("en", "fr"), [article], store, faithful=_faithful())
    assert res.error == "" and res.fallbacks == 0
    assert res.title == "[fr] Autorité portuaire de l'Océan opens a new ferry line le 3 mars"
    assert res.body_html == (
        "<p>[fr] The Autorité portuaire de l'Océan (OHA) opens "
        '<a href="https://x.org/?a=1&amp;b=2">the <em>new</em> line</a> le 3 mars 2026. '
        "[fr] It runs du 12 au 14 mai.</p><p>[fr] Call 555 or see https://x.org/t.</p>"
    )


class _LosingPair(PseudoPair):
    """Drops every placeholder, as a real model sometimes does."""

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        return [TOKEN_RE.sub("", s) for s in super().translate_batch(sentences)]


def test_lost_placeholders_fall_back_to_text_nodes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    body = '<p>Read <a href="https://x.org/a">the report</a> of March 3.</p><p>Plain text here.</p>'
    pair = _LosingPair("en", "fr")
    (res,) = translate_articles(
        pair, [_article(1, body, title="Due on March 3")], store, faithful=_faithful()
    )
    assert res.fallbacks == 2  # the title and the first paragraph; the second had no placeholder to lose
    # The safe mode: text nodes on their own, still cut at protected spans (the date is rendered, not the
    # model's words), no placeholder shown to the model.
    assert res.title == "[fr] Due le 3 mars"
    assert res.body_html == (
        '<p>[fr] Read <a href="https://x.org/a">[fr] the report</a> [fr] of 3 mars.</p><p>[fr] Plain text here.</p>'
    )
    assert not TOKEN_RE.search(res.body_html + res.title)


def test_placeholders_share_memory_across_numbers(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    pair = PseudoPair("en", "fr")
    articles = [_article(i, f"<p>Tickets cost {i + 3} dollars on May {i + 10}.</p>") for i in range(3)]
    results = translate_articles(pair, articles, store, faithful=_faithful())
    # Title, two summary sentences, and "Tickets cost 8001 dollars 8002." once (cut even for two workers).
    assert pair.calls == [2, 2]
    assert [r.body_html for r in results] == [
        f"<p>[fr] Tickets cost {i + 3} dollars le {i + 10} mai.</p>" for i in range(3)
    ]


def test_tiny_real_argos_model_takes_the_fallback_path(
    tmp_path: Path, model_files: Callable[[str, str], Path]
) -> None:
    install(model_files("en", "fr"), tmp_path / "models")
    engine = ArgosEngine(
        EngineOptions(TranslationConfig(packages_dir=tmp_path / "models"), data_dir=tmp_path)
    )
    pair = engine.pair("en", "fr")
    assert pair is not None
    store = Store(f"sqlite:///{tmp_path}/s.db")
    body = (
        '<p>The OHA said <a href="https://x.org/a">the report</a> is out on March 3.</p><ul><li>One</li></ul>'
    )
    (res,) = translate_articles(pair, [_article(1, body)], store, faithful=_faithful())
    assert res.error == "" and res.fallbacks >= 1
    assert res.body_html.count('<a href="https://x.org/a">') == 1 and res.body_html.count("<li>") == 1
    assert not TOKEN_RE.search(res.body_html)


def test_text_in_attributes_is_translated_and_code_is_not(tmp_path: Path) -> None:
    """An image's alt and a link's title are text a reader meets (a screen reader reads the alt aloud): they
    are translated, inside protected blocks too, each distinct text once; code keeps its own."""
    store = Store(f"sqlite:///{tmp_path}/s.db")
    body = (
        '<p>The ferry <img src="media/f.png" alt="The new ferry at the port"> sails <a href="/x" '
        'title="Timetable">daily</a>.</p><p><img src="media/g.png" alt="The new ferry at the port"></p>'
        '<pre><code title="Timetable">x = 1</code></pre>'
    )
    pair = PseudoPair("en", "fr")
    (res,) = translate_articles(pair, [_article(1, body)], store)
    assert res.error == ""
    assert res.body_html.count('alt="[fr] The new ferry at the port"') == 2
    assert 'title="[fr] Timetable"' in res.body_html and '<code title="Timetable">' in res.body_html
    assert 'src="media/f.png"' in res.body_html and 'src="media/g.png"' in res.body_html


def test_a_removed_package_does_not_break_the_sentence_splitter_it_shared(
    tmp_path: Path, model_files: Callable[[str, str], Path]
) -> None:
    """Pairs with the same source language share one splitter, loaded on first use from the first package
    that had its model: once that package is removed, another one's copy of the same model serves."""
    import shutil

    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        install(model_files("en", "ar"), folder / "models")
        install(model_files("en", "fr"), folder / "models")
    engine = ArgosEngine(EngineOptions(TranslationConfig(packages_dir=first / "models"), data_dir=first))
    assert engine.pair("en", "ar") is not None  # the shared splitter now points into first/
    shutil.rmtree(first)
    engine = ArgosEngine(EngineOptions(TranslationConfig(packages_dir=second / "models"), data_dir=second))
    pair = engine.pair("en", "fr")
    assert pair is not None
    assert len(pair.split("The ferry sails at dawn. It returns at dusk.")) == 2
