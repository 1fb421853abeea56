"""Sentences to the model in batches, the model kept fed: the translation memory first, then batches cut by
cost from a pool, queued while the caller goes on cutting the next documents into sentences.

`Batcher` is driven by `document.translate_articles`: `add` as documents are split (sentences that may come
back for a second round marked `early`), `close_pool` once every document's first round is in, `collect_one`
while the second rounds come in, `finish` when no more can come.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Protocol

from syndicator.translate import (
    ModelQueue,
    PairTranslator,
    Pending,
    Signals,
    even_budget,
    mark_reader,
    quality,
)
from syndicator.translate.stages import stage

_SPACE = re.compile(r"\s+")
# Model calls at once: while one call's last sub-batch keeps one core busy, the next call's feed the other
# (a call returns only when all its sub-batches are done, so one call at a time leaves cores idle).
IN_FLIGHT = 2
# Batches' worth of sentences kept waiting while every worker is busy: the more to choose from, the more even
# the lengths within a batch (less padding: pools of 45 sentences padded 6% more tokens than one sort of all
# 200, pools of 90 3% more); too many and the model waits for them at the start. 6 measured best of 3, 6, 12
# (pipeline-pool-N in bench/translate_throughput.py).
POOL_BATCHES = 6


class TranslationMemory(Protocol):
    """Where translated sentences are remembered: the translation memory (the store)."""

    def translation_memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]: ...
    def translation_memory_store(
        self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]
    ) -> None: ...
    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None: ...


def normalize(sentence: str) -> str:
    """The form a sentence is remembered under: whitespace folded."""
    return _SPACE.sub(" ", sentence).strip()


def sentence_key(sentence: str) -> str:
    """Memory key of a sentence."""
    return hashlib.sha256(normalize(sentence).encode("utf-8")).hexdigest()


class ThreadQueue:
    """The model queue of an engine that translates whole calls (Apertium, a pivot): calls of `batch_size`
    sentences on background threads, `IN_FLIGHT` at once."""

    def __init__(self, pair: PairTranslator, batch_size: int) -> None:
        self.pair, self.budget, self.depth = pair, batch_size, IN_FLIGHT
        self.workers = IN_FLIGHT
        self.executor: ThreadPoolExecutor | None = None

    def prepare(self, sentence: str) -> tuple[object, int]:
        return sentence, 1

    def submit(self, batch: Sequence[object]) -> Pending:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="translate-batch")
        texts: list[str] = list(batch)  # type: ignore[arg-type]
        return self.executor.submit(self.pair.translate_batch, texts)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class Waiting(NamedTuple):
    """A sentence not yet sent to the model."""

    early: bool  # its run may come back for a second round: sent before the others
    cost: int
    key: str
    text: str  # normalized
    prepared: object


def cut(pending: Sequence[Waiting], budget: int) -> tuple[int, int]:
    """(how many of `pending` the next batch takes from its end, the longest of them): in that order, as many
    as fit in `budget` with every one padded to the longest, at least one. For `pending` sorted by cost alone
    this is `translate.cut_batch`."""
    n = longest = 0
    for waiting in reversed(pending):
        longer = max(longest, waiting.cost, 1)
        if n and (n + 1) * longer > budget:
            break
        n, longest = n + 1, longer
    return n, longest


class Batcher:
    """Keeps the model fed while the caller goes on cutting the next documents into sentences.

    Sentences new to the model are prepared as they come (tokenized, for an Argos model), kept sorted by cost
    and sent in batches cut to the model's budget, longest first, so that the model always has `depth`
    batches queued: its workers never wait for Python, and Python never waits for them until the end
    (bench/translate_throughput.py). Memory look-ups and writes stay on the caller's thread; each key is
    claimed when first seen, so a sentence met again while in flight is not sent twice.

    Sentences marked early (their run may need a second round) go before the rest, so that a second round is
    known while the pool still has work to mix it into. Once the first round is all in (`close_pool`), only
    `depth` batches are queued and the rest stays in the pool, where a second round's sentences join it,
    rather than running alone on one worker at the end while the other waits. What is left once the pool is
    down to a batch per worker, or when no second round can come any more (`finish`), goes at once, cut even:
    a share per worker.
    """

    def __init__(
        self,
        pair: PairTranslator,
        translation_memory: TranslationMemory,
        batch_size: int,
        done: dict[str, str],
    ) -> None:
        self.pair, self.translation_memory, self.done = pair, translation_memory, done
        self.save_every = max(1, batch_size)
        make_queue = getattr(pair, "queue", None)
        self.queue: ModelQueue = make_queue() if callable(make_queue) else ThreadQueue(pair, self.save_every)
        self.pair_key = f"{pair.source}>{pair.target}"
        # An engine that marks what it could not translate: the memory keeps its marks, `done` the clean
        # text, `marks` the counts (words, marked words) per sentence.
        self.reader = mark_reader(pair)
        self.marks: dict[str, tuple[int, int]] = {}
        self.claimed: set[str] = set()  # looked up in the memory already: found, pending or in flight
        self.pending: list[Waiting] = []  # sorted when sending: early last, each part by cost
        self.flights: list[tuple[list[tuple[str, str]], Pending]] = []
        self.unsaved: list[tuple[str, str, str]] = []  # translated, not yet in the memory
        self.hits = self.misses = 0  # memory look-ups not yet added to the store's counters
        self.closed = False  # every first-round sentence is in: no waiting for a fuller pool

    def add(self, sentences: Sequence[str], early: Sequence[str] = ()) -> None:
        """Look these sentences up; queue full batches of the missing ones (`early` ones first)."""
        wanted: dict[str, tuple[str, bool]] = {}
        with stage("store"):
            for sentences_of, is_early in ((early, True), (sentences, False)):
                for sentence in sentences_of:
                    key = sentence_key(sentence)
                    if key not in self.done and key not in self.claimed:
                        wanted.setdefault(key, (normalize(sentence), is_early))
            if wanted:
                self.claimed.update(wanted)
                found = self.translation_memory.translation_memory_lookup(
                    self.pair_key, self.pair.model_id, list(wanted)
                )
                # Counted with the next save: a write transaction per look-up cost as much as the look-up.
                self.hits += len(found)
                self.misses += len(wanted) - len(found)
        if wanted:
            for key, out in found.items():
                self._accept(key, wanted[key][0], out)
            for key, (text, is_early) in wanted.items():
                if key not in found:
                    prepared, cost = self.queue.prepare(text)
                    self.pending.append(Waiting(is_early, cost, key, text, prepared))
        self._feed(final=False)

    def hungry(self) -> bool:
        """Whether the model could take another batch now (collects what it finished)."""
        self._collect(wait=False)
        return self._queued() < self.queue.depth

    def _queued(self) -> int:
        return sum(1 for _, pending in self.flights if not pending.done())

    def _feed(self, final: bool) -> None:
        self._collect(wait=False)
        if not self.pending:
            return
        self.pending.sort(key=lambda w: (w.early, w.cost))
        budget = self.queue.budget
        if self.closed and sum(w.cost for w in self.pending) <= self.queue.workers * budget:
            final = True  # what is left is a batch per worker at most: all of it now, cut even
        # The last batches are the ones a worker can be left idle beside: cut them even, a share per worker.
        if final:
            budget = even_budget(sorted(w.cost for w in self.pending), budget, self.queue.workers)
        while self.pending and (final or self._queued() < self.queue.depth):
            n, longest = cut(self.pending, budget)
            if not (final or self.closed):
                if n == len(self.pending) and (n + 1) * longest <= budget:
                    break  # more sentences are coming: wait for a full batch
                pooled = sum(w.cost for w in self.pending)
                if self._queued() >= self.queue.workers and pooled < POOL_BATCHES * budget:
                    break  # every worker has a batch: let the pool grow, for batches of more even lengths
            batch, self.pending = self.pending[-n:], self.pending[:-n]
            sent = [(w.key, w.text) for w in batch]
            self.flights.append((sent, self.queue.submit([w.prepared for w in batch])))

    def close_pool(self) -> None:
        """Every first-round sentence is in: from now on batches go as the model takes them, whatever the
        pool's size; what the model cannot take yet stays in the pool for second rounds to join."""
        self.closed = True
        self._feed(final=False)

    def collect_one(self) -> None:
        """Wait for the oldest batch in flight (if any), take every finished one, send what the model can
        take."""
        self._collect(wait=False, oldest=True)
        self._feed(final=False)

    def idle(self) -> bool:
        """Nothing waiting and nothing in flight: every sentence claimed so far is in `done`."""
        return not self.pending and not self.flights

    def finish(self) -> None:
        """Send what is left and wait until every sentence claimed so far is in `done`."""
        self._feed(final=True)
        self._collect(wait=True)
        self._save()

    def close(self) -> None:
        """Wait for the model to finish what it was given (after an error, its results are dropped)."""
        self.pending, self.flights = [], []
        self.queue.close()

    def _collect(self, wait: bool, oldest: bool = False) -> None:
        """Take the finished batches' outputs (`wait`: every batch's; `oldest`: the oldest's, and any other
        finished)."""
        still = []
        for i, (sent, pending) in enumerate(self.flights):
            if not (wait or (oldest and i == 0) or pending.done()):
                still.append((sent, pending))
                continue
            outputs = pending.result()
            for (key, text), out in zip(sent, outputs, strict=True):
                self._accept(key, text, out)
                if out.strip():
                    self.unsaved.append((key, text, out))
        self.flights = still
        if len(self.unsaved) >= self.save_every:
            self._save()

    def _save(self) -> None:
        with stage("store"):
            if self.unsaved:
                self.translation_memory.translation_memory_store(
                    self.pair_key, self.pair.model_id, self.unsaved
                )
                self.unsaved = []
            if self.hits or self.misses:
                self.translation_memory.translation_memory_count(self.pair_key, self.hits, self.misses)
                self.hits = self.misses = 0

    def _accept(self, key: str, source: str, output: str) -> None:
        if self.reader is None:
            self.done[key] = output
            return
        clean, words, marked = self.reader.read_marks(source, output)
        self.done[key] = clean
        self.marks[key] = (words, marked)

    def signals(self, sentences: Sequence[str]) -> Signals:
        """The engine's signals over these sentences (translated, in `done`)."""
        found = Signals(marked=self.reader is not None)
        for sentence in sentences:
            key = sentence_key(sentence)
            words, marked = self.marks.get(key, (0, 0))
            found.words += words
            found.unknown += marked
            output = self.done[key]
            if quality.loops(output) and not quality.loops(sentence):
                found.looping += 1
            if quality.ordinary_words(sentence) >= quality.MIN_WORDS_FOR_UNCHANGED:
                found.sentences += 1
                found.copied += quality.copied(sentence, output)
        return found
