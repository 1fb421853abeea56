"""Translation engines behind one protocol and a small registry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from syndicator.config import Config, TranslationConfig


class PairTranslator(Protocol):
    """A loaded way to translate from one language to another."""

    source: str
    target: str
    engine: str
    model_id: str  # identity of the model(s): the sentence memory is keyed by it
    pivot: str  # "" for a direct model, else the language it pivots through

    def split(self, text: str) -> list[str]:
        """Split text into the sentences the model translates one by one."""
        ...

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """Translate many sentences in one go, in order."""
        ...


class Pending(Protocol):
    """A batch handed to a model: its translations once done."""

    def done(self) -> bool:
        """Whether the translations are ready (result() will not wait)."""
        ...

    def result(self) -> list[str]:
        """The translations, in the batch's order (waits until done)."""
        ...


class ModelQueue(Protocol):
    """How a caller keeps a pair's model busy: sentences prepared one by one (tokenized, with their cost),
    batches cut by cost and queued, several at once, while the caller goes on preparing the next."""

    budget: int  # the largest batch: its sentences × the cost of its longest (what padding makes it)
    depth: int  # batches to keep queued so that no worker of the model waits
    workers: int  # batches the model works on at once

    def prepare(self, sentence: str) -> tuple[object, int]:
        """What submit() takes for this sentence, and its cost (tokens, or 1 for a sentence)."""
        ...

    def submit(self, batch: Sequence[object]) -> Pending:
        """Queue one batch of prepared sentences."""
        ...

    def close(self) -> None:
        """Wait for what is queued (after an error: its results are dropped); free threads."""
        ...


def cut_batch(costs: Sequence[int], budget: int) -> int:
    """How many of `costs` (sorted from cheapest to dearest) the next batch takes from the dear end: as many
    as fit in `budget` with every one padded to the dearest, at least one."""
    if not costs:
        return 0
    longest = max(1, costs[-1])
    return max(1, min(len(costs), budget // longest))


def even_budget(costs: Sequence[int], budget: int, workers: int) -> int:
    """The budget for the last batches of a run (`costs` sorted): cut into a multiple of `workers` batches of
    about equal cost, so that no worker sits idle while another finishes one big last batch."""
    total = sum(max(1, c) for c in costs)
    batches = max(1, -(-total // max(1, budget)))
    even = -(-batches // workers) * workers
    return max(1, min(budget, -(-total // even)))


class MarkReader(Protocol):
    """An engine that marks words it could not translate (Apertium: *, #, @) in what translate_batch returns."""

    def read_marks(self, source: str, output: str) -> tuple[str, int, int]:
        """(output without marks, words in it, words that were marked)."""
        ...


def mark_reader(pair: PairTranslator) -> MarkReader | None:
    """The pair's mark reader, if its engine marks its output (through a pivot: the second engine's)."""
    if isinstance(pair, PivotTranslator):
        return mark_reader(pair.second)
    return pair if callable(getattr(pair, "read_marks", None)) else None  # type: ignore[return-value]


@dataclass
class Signals:
    """What an engine's output says about itself, summed over one article's sentences."""

    words: int = 0  # words of the output, where the engine marks what it could not translate
    unknown: int = 0  # of them, marked unknown, untranslatable or untransferred
    marked: bool = False  # whether the engine marks at all (else `unknown` means nothing)
    sentences: int = 0  # sentences with at least three ordinary words (the only ones judged below)
    copied: int = 0  # of them, returned exactly as the source: left untranslated
    looping: int = 0  # outputs that repeat a phrase over and over (a decoder stuck in a loop)

    @property
    def unknown_ratio(self) -> float | None:
        """Marked words / words, or None when the engine does not mark its output."""
        if not self.marked:
            return None
        return self.unknown / self.words if self.words else 0.0


class Engine(Protocol):
    """A translation engine: finds the model for a language pair."""

    name: str

    def pair(self, source: str, target: str) -> PairTranslator | None:
        """The translator for source → target, or None when no model covers the pair."""
        ...

    def describe(self) -> list[ModelInfo]:
        """Installed models, for `syndicator models list`."""
        ...


@dataclass(frozen=True)
class ModelInfo:
    """One installed model as the CLI shows it."""

    source: str
    target: str
    version: str
    path: Path | None = None
    size: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class EngineOptions:
    """What an engine is built from: the [translation] settings as they are, and the instance's data folder."""

    translation: TranslationConfig
    data_dir: Path

    @classmethod
    def of(cls, config: Config) -> EngineOptions:
        """The options for an instance's config."""
        return cls(config.translation, config.root / "data")


EngineFactory = Callable[[EngineOptions], Engine]
ENGINES: dict[str, EngineFactory] = {}


def register(name: str) -> Callable[[EngineFactory], EngineFactory]:
    """Class decorator: make an engine selectable in config."""

    def deco(factory: EngineFactory) -> EngineFactory:
        ENGINES[name] = factory
        return factory

    return deco


def make_engine(name: str, options: EngineOptions) -> Engine:
    """Create the named engine (a new one: see shared_engine for the one a process uses)."""
    from syndicator.translate import apertium, argos, pseudo  # noqa: F401  (registration)

    return ENGINES[name](options)


_shared: dict[str, tuple[EngineOptions, Engine]] = {}
_shared_lock = threading.Lock()


def shared_engine(name: str, options: EngineOptions) -> Engine:
    """The process's one engine of a name: created on first use, under a lock, and shared by the pipeline,
    `status` and the server's /status page, so loaded models and what an engine found out (Apertium's mode
    list, package versions) are not redone per call. New options (a reloaded config) replace it."""
    with _shared_lock:
        held = _shared.get(name)
        if held is not None and held[0] == options:
            return held[1]
        engine = make_engine(name, options)
        _shared[name] = (options, engine)
        return engine


def no_model_reason(engine: str, source: str, target: str, pivot: str) -> str:
    """Why source → target has no model under `engine`, and what to do: recorded with the waiting
    translations and recomputed by `status` from the current config (never an old engine's advice)."""
    via = "" if pivot in (source, target) else f" (directly or through {pivot})"
    return f"no {engine} model for {source} → {target}{via}; {install_advice(engine, source, target)}"


def install_advice(engine: str, source: str, target: str) -> str:
    """How to get `engine` a model for source → target."""
    if engine == "apertium":
        from syndicator.translate.apertium import install_hint

        return install_hint(source, target)
    return "install one with: syndicator models install FILE.argosmodel (or --online LANG)"


class PivotTranslator:
    """Two pair translators chained through a pivot language (e.g. zh → en → fr)."""

    def __init__(self, first: PairTranslator, second: PairTranslator) -> None:
        self.first, self.second = first, second
        self.source, self.target = first.source, second.target
        self.engine = first.engine
        self.pivot = first.target
        self.model_id = f"{first.model_id}+{second.model_id}"

    def split(self, text: str) -> list[str]:
        """Sentences as the first model sees them."""
        return self.first.split(text)

    def common_words(self, words: Collection[str]) -> frozenset[str] | None:
        """The first model's dictionary: it reads the source headline."""
        known = getattr(self.first, "common_words", None)
        return known(words) if callable(known) else None

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """Translate into the pivot, then on into the target."""
        middle = self.first.translate_batch(sentences)
        reader = mark_reader(self.first)
        if reader is not None:  # the second engine must not see the first one's marks
            middle = [reader.read_marks(s, m)[0] for s, m in zip(sentences, middle, strict=True)]
        return self.second.translate_batch(middle)


def find_pair(
    direct: Callable[[str, str], PairTranslator | None], source: str, target: str, pivot: str
) -> PairTranslator | None:
    """A direct translator, else one through the pivot language, else None."""
    found = direct(source, target)
    if found is not None or pivot in (source, target):
        return found
    first, second = direct(source, pivot), direct(pivot, target)
    if first is None or second is None:
        return None
    return PivotTranslator(first, second)
