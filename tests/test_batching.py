"""How the batcher cuts and orders batches: early sentences first, the pool held back once the first round is in,
second rounds mixed into it, the last batches cut even. A model queue that only records (a test double inside
this layer): the batcher's decisions, not a model's output, are what is checked here; the real models'
equivalence is in test_document_overlap.py and test_placeholder_survival.py."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from syndicator.translate import cut_batch
from syndicator.translate.batching import Batcher, Waiting, cut


class _Flight:
    def __init__(self, texts: list[str]) -> None:
        self.texts, self.finished = texts, False

    def done(self) -> bool:
        return self.finished

    def result(self) -> list[str]:
        self.finished = True  # waiting on it lets it finish, like a worker would
        return [f"<{t}>" for t in self.texts]


class _RecordingQueue:
    """Costs a sentence its word count; every batch waits until the batcher collects it."""

    def __init__(self, budget: int, workers: int = 2) -> None:
        self.budget, self.workers, self.depth = budget, workers, 2 * workers
        self.batches: list[_Flight] = []

    def prepare(self, sentence: str) -> tuple[object, int]:
        return sentence, len(sentence.split())

    def submit(self, batch: Sequence[object]) -> _Flight:
        flight = _Flight([str(s) for s in batch])
        self.batches.append(flight)
        return flight

    def close(self) -> None:
        pass


class _Pair:
    source, target, model_id = "en", "fr", "test"

    def __init__(self, queue: _RecordingQueue) -> None:
        self._queue = queue

    def queue(self) -> _RecordingQueue:
        return self._queue

    def split(self, text: str) -> list[str]:
        return [text]

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        raise AssertionError("batches go through the queue")


class _Memory:
    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def translation_memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]:
        return {h: self.rows[h] for h in hashes if h in self.rows}

    def translation_memory_store(self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]) -> None:
        self.rows.update({key: out for key, _, out in rows})

    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None:
        pass


def _sentences(prefix: str, count: int, words: int) -> list[str]:
    return [f"{prefix}{i} " + " ".join(["word"] * (words - 1)) for i in range(count)]


def _batcher(budget: int) -> tuple[Batcher, _RecordingQueue, dict[str, str]]:
    queue = _RecordingQueue(budget)
    done: dict[str, str] = {}
    return Batcher(_Pair(queue), _Memory(), 64, done), queue, done  # type: ignore[arg-type]


def test_early_sentences_go_in_the_next_batch_before_longer_ones() -> None:
    batcher, queue, _ = _batcher(budget=40)
    batcher.add(_sentences("plain", 30, 10))  # a batch per worker goes, the rest waits for a bigger pool
    sent = len(queue.batches)
    assert sent == 2
    batcher.add(_sentences("long", 10, 10), early=_sentences("risky", 2, 3))
    nxt = queue.batches[sent]
    assert {t for t in nxt.texts if t.startswith("risky")} == set(_sentences("risky", 2, 3))


def test_after_the_first_round_the_pool_waits_for_second_rounds_and_the_last_batches_are_even() -> None:
    batcher, queue, done = _batcher(budget=40)
    batcher.add(_sentences("first", 48, 10))  # twelve batches' worth
    batcher.close_pool()
    assert len(queue.batches) == 4  # the queue's depth, not the whole pool
    assert batcher.pending
    second = _sentences("second", 3, 10)
    batcher.add(second)
    batcher.finish()
    texts = [t for b in queue.batches for t in b.texts]
    assert sorted(texts) == sorted(_sentences("first", 48, 10) + second)  # each once
    assert all(len(b.texts) * 10 <= 40 for b in queue.batches)
    # The second round joined the pool: it did not go last, alone, while the other worker waits.
    last_with_second = max(i for i, b in enumerate(queue.batches) if set(b.texts) & set(second))
    assert last_with_second < len(queue.batches) - 1
    assert max(len(b.texts) for b in queue.batches[4:]) - min(len(b.texts) for b in queue.batches[4:]) <= 1
    assert len(done) == 51 and batcher.idle()


def test_a_small_closed_pool_is_split_between_the_workers() -> None:
    batcher, queue, _ = _batcher(budget=1000)
    batcher.add(_sentences("s", 10, 5))
    batcher.close_pool()
    assert [len(b.texts) for b in queue.batches] == [5, 5]


costs_lists = st.lists(st.integers(min_value=1, max_value=120), min_size=1, max_size=80).map(sorted)


@given(costs=costs_lists, budget=st.integers(min_value=1, max_value=2048))
def test_cut_by_cost_alone_is_cut_batch(costs: list[int], budget: int) -> None:
    pending = [Waiting(False, c, str(i), "", None) for i, c in enumerate(costs)]
    assert cut(pending, budget)[0] == cut_batch(costs, budget)
