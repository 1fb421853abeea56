"""Translating while splitting: batches go to the model in the background as documents are cut, each new
sentence once, with the same results as one call after all the splitting."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicator.cli import main
from syndicator.config import TranslationConfig
from syndicator.models import Article
from syndicator.store import Store
from syndicator.translate import EngineOptions, cut_batch, even_budget
from syndicator.translate.argos import ArgosEngine
from syndicator.translate.document import translate_articles
from syndicator.translate.packages import install
from syndicator.translate.pseudo import PseudoPair
from tests.support.edits import replaced

NOW = datetime(2026, 3, 3, tzinfo=UTC)
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
]


def _article(i: int) -> Article:
    body = f"<p>The shared sentence is here. Word {WORDS[i]} starts this. Then {WORDS[i]} ends it.</p>"
    return Article(
        id=i, source="s", key=f"k{i}", language="en", title=f"About {WORDS[i]}", summary="One. Two.",
        body_html=body, author="", tags=(), image="", url="", published=NOW, first_seen=NOW, updated=NOW,
        content_hash=f"h{i}",
    )  # fmt: skip


class _Recording(PseudoPair):
    """Records every sentence sent and the thread it was translated on."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(source, target)
        self.sent: list[str] = []
        self.threads: set[str] = set()

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        self.sent += sentences
        self.threads.add(threading.current_thread().name)
        return super().translate_batch(sentences)


class _WaitsForLastSplit(_Recording):
    """Its first batch finishes only once the last article is being split: proves the two overlap."""

    def __init__(self, source: str, target: str, last: str) -> None:
        super().__init__(source, target)
        self.last, self.split_last = last, threading.Event()
        self.overlapped = False

    def split(self, text: str) -> list[str]:
        if self.last in text:
            self.split_last.set()
        return super().split(text)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        if not self.calls:
            # Serial code would never get there: the wait would run out and the assertion below fail.
            self.overlapped = self.split_last.wait(timeout=60)
        return super().translate_batch(sentences)


def test_model_works_while_later_articles_are_split(tmp_path: Path) -> None:
    articles = [_article(i) for i in range(12)]
    pair = _WaitsForLastSplit("en", "fr", last=WORDS[11])
    results = translate_articles(pair, articles, Store(f"sqlite:///{tmp_path}/a.db"), batch_size=4)
    assert pair.overlapped
    assert any(name.startswith("translate-batch") for name in pair.threads)

    # The same as sending everything after all the splitting: outputs, and each new sentence sent once.
    single = _Recording("en", "fr")
    store = Store(f"sqlite:///{tmp_path}/b.db")
    expected = translate_articles(single, articles, store, batch_size=1000)
    assert results == expected
    assert len(single.calls) == 2  # one send at the end, cut even for the two workers
    assert sorted(pair.sent) == sorted(single.sent)
    assert len(pair.sent) == len(set(pair.sent)) == 1 + 2 + 12 * 3  # shared, One., Two., per article: 3
    assert sorted(pair.calls)[1:] == [4] * (len(pair.calls) - 1)  # full batches and one remainder


def test_memory_counts_and_rows_match_across_batches(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    pair = _Recording("en", "fr")
    translate_articles(pair, [_article(i) for i in range(6)], store, batch_size=3)
    assert store.translation_memory_stats()["en>fr"] == (21, 0, 21)  # size, hits, misses
    translate_articles(pair, [_article(i) for i in range(8)], store, batch_size=3)
    assert len(pair.sent) == 21 + 2 * 3  # only the two new articles' own sentences
    assert store.translation_memory_stats()["en>fr"] == (27, 21, 27)  # every sentence of the first six: a hit


class _FailsOnSecondBatch(_Recording):
    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        if len(self.calls) == 1:
            self.calls.append(len(sentences))
            raise RuntimeError("model crashed")
        return super().translate_batch(sentences)


def test_a_model_error_reaches_the_caller_and_stops_the_thread(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    with pytest.raises(RuntimeError, match="model crashed"):
        translate_articles(
            _FailsOnSecondBatch("en", "fr"), [_article(i) for i in range(8)], store, batch_size=3
        )
    assert not [t for t in threading.enumerate() if t.name.startswith("translate-batch")]
    # At most the first batch was remembered; nothing of the failed one. The look-ups' counts go with the next
    # save, so a crashed unit may count fewer than it looked up (its retry counts them again).
    size, hits, _ = store.translation_memory_stats().get("en>fr", (0, 0, 0))
    assert size <= 3 and hits == 0


def test_real_argos_model_gives_the_same_text_in_small_batches(
    tmp_path: Path, model_files: Callable[[str, str], Path]
) -> None:
    install(model_files("en", "fr"), tmp_path / "models")
    engine = ArgosEngine(
        EngineOptions(TranslationConfig(packages_dir=tmp_path / "models"), data_dir=tmp_path)
    )
    pair = engine.pair("en", "fr")
    assert pair is not None
    articles = [_article(i) for i in range(6)]
    small = translate_articles(pair, articles, Store(f"sqlite:///{tmp_path}/a.db"), batch_size=2)
    whole = translate_articles(pair, articles, Store(f"sqlite:///{tmp_path}/b.db"), batch_size=1000)
    assert small == whole
    assert all(r.error == "" for r in small)


def test_cli_run_with_batches_of_one_stores_the_same_translations(
    make_instance: Callable[..., Path], model_files: Callable[[str, str], Path]
) -> None:
    root = make_instance(targets=("fr",))
    config = root / "config" / "syndicator.toml"
    original = config.read_text(encoding="utf-8")
    assert main(["-q", "--config", str(config), "models", "install", str(model_files("en", "fr"))]) == 0
    stored = {}
    for size in (64, 1):
        text = replaced(
            original, 'packages_dir = "models"\n', f'packages_dir = "models"\nbatch_size = {size}\n'
        )
        config.write_text(text, encoding="utf-8")
        for path in (root / "data").glob("syndicator.db*"):
            path.unlink()  # a fresh store: every sentence goes to the model again
        assert main(["-q", "--config", str(config), "run", "--once"]) == 0
        db = sqlite3.connect(root / "data" / "syndicator.db")
        stored[size] = db.execute(
            "SELECT a.key, t.status, t.title, t.summary, t.body_html FROM translations t"
            " JOIN articles a ON a.id = t.article_id WHERE t.language = 'fr' ORDER BY a.key"
        ).fetchall()
        db.close()
    assert len(stored[1]) == 3 and {row[1] for row in stored[1]} == {"done"}
    assert stored[1] == stored[64]


class _LosesFirstPlaceholders(_Recording):
    """Drops the placeholders of the first article's block, so that block goes to a second round; the batch
    with the last article's first round finishes only once that second round has reached the model."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(source, target)
        self.second_round_sent = threading.Event()
        self.overlapped = False

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        if any("Zero" in s and "here" in s for s in sentences):
            return [f"[{self.target}] lost" if "Zero" in s else f"[{self.target}] {s}" for s in sentences]
        if any(s in ("Zero costs", "here and", "there today.") for s in sentences):
            self.second_round_sent.set()
        if any("Last" in s for s in sentences):
            # Rounds one after the other would never get there: the wait would run out, the assertion fail.
            self.overlapped = self.second_round_sent.wait(timeout=60)
        return super().translate_batch(sentences)


def test_a_second_round_starts_while_the_first_round_is_still_translated(tmp_path: Path) -> None:
    articles = [replace(_article(0), body_html="<p>Zero costs 5 here and 6 there today.</p>")]
    articles += [_article(i) for i in range(1, 8)]
    articles.append(replace(_article(8), body_html="<p>Last one, at last.</p>"))
    pair = _LosesFirstPlaceholders("en", "fr")
    results = translate_articles(pair, articles, Store(f"sqlite:///{tmp_path}/a.db"), batch_size=2)
    assert pair.overlapped
    # The lost block came back node by node, its numbers as they were.
    assert results[0].body_html == "<p>[fr] Zero costs 5 [fr] here and 6 [fr] there today.</p>"


@given(
    costs=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=200),
    budget=st.integers(min_value=1, max_value=4096),
    workers=st.integers(min_value=1, max_value=8),
)
def test_the_last_batches_are_cut_even_so_no_worker_waits_on_one_big_batch(
    costs: list[int], budget: int, workers: int
) -> None:
    costs.sort()
    total = sum(costs)
    share = even_budget(costs, budget, workers)
    rest = costs
    while rest:
        n = cut_batch(rest, share)
        batch, rest = rest[-n:], rest[:-n]
        # Each fits the model's budget and is no more than a worker's share (a sentence alone may be more).
        padded = len(batch) * batch[-1]
        assert n == 1 or padded <= min(budget, -(-total // workers))
