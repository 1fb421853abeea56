"""Article translation: HTML structure kept, sentence memory reused, batching (pseudo engine)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syndicator.models import Article
from syndicator.store import Store
from syndicator.translate.document import translate_articles
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
    # title, two summary sentences, the shared sentence and "Unique ZXQ1." (numbers are placeholders, so
    # the three unique sentences are one to the model): one batch of 5
    assert pair.calls == [5]
    edited = _article(1, "<p>Shared sentence. Changed now.</p>")
    (res,) = translate_articles(pair, [edited], store)
    assert pair.calls == [5, 1]
    assert res.body_html == "<p>[fr] Shared sentence. [fr] Changed now.</p>"
    size, hits, misses = store.memory_stats()["en>fr"]
    assert (size, misses) == (6, 6) and hits == 4


def test_chinese_target_joins_sentences_without_spaces(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    (res,) = translate_articles(PseudoPair("en", "zh"), [_article(1, "<p>One. Two.</p>")], store)
    assert res.body_html == "<p>[zh] One.[zh] Two.</p>"
