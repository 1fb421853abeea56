"""A pseudo-translation engine: the test double, and a preview of layout in every language."""

from __future__ import annotations

from collections.abc import Sequence

from syndicator.translate import EngineOptions, ModelInfo, register
from syndicator.translate.sentences import split_sentences


class PseudoPair:
    """Marks each sentence with the target language instead of translating it."""

    engine = "pseudo"
    pivot = ""

    def __init__(self, source: str, target: str) -> None:
        self.source, self.target = source, target
        self.model_id = f"pseudo:{source}-{target}:1"
        self.calls: list[int] = []  # batch sizes, so tests can see batching

    def split(self, text: str) -> list[str]:
        """Sentences by the shared rules (translate/sentences.py)."""
        return split_sentences(text)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """'[fr] sentence' for each sentence."""
        self.calls.append(len(sentences))
        return [f"[{self.target}] {s}" for s in sentences]


@register("pseudo")
class PseudoEngine:
    """Covers every pair; `missing` pairs can be removed to act out a missing model."""

    name = "pseudo"

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.missing: set[tuple[str, str]] = set()
        self.pairs: dict[tuple[str, str], PseudoPair] = {}

    def pair(self, source: str, target: str) -> PseudoPair | None:
        """A pseudo pair unless it was declared missing."""
        if (source, target) in self.missing:
            return None
        return self.pairs.setdefault((source, target), PseudoPair(source, target))

    def describe(self) -> list[ModelInfo]:
        """No installed models: every pair is covered."""
        return []
