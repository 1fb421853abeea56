"""The Argos engine on tiny real packages: thread layout, shared splitting, batching that changes no output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench import newsgen
from syndicator.config import TranslationConfig
from syndicator.translate import EngineOptions
from syndicator.translate.argos import ArgosEngine, ArgosPair, ct2_threads
from syndicator.translate.packages import install


@pytest.fixture
def engine(tmp_path: Path, model_files: Callable[[str, str], Path]) -> ArgosEngine:
    packages = tmp_path / "models"
    for target in ("fr", "ar"):
        install(model_files("en", target), packages)
    return ArgosEngine(
        EngineOptions(TranslationConfig(packages_dir=packages, threads=2), data_dir=tmp_path / "data")
    )


def _pair(engine: ArgosEngine, target: str) -> ArgosPair:
    pair = engine.pair("en", target)
    assert isinstance(pair, ArgosPair)
    return pair


def test_one_single_threaded_ctranslate2_worker_per_core() -> None:
    assert ct2_threads(2) == (1, 2)
    assert ct2_threads(1) == (1, 1)


def test_pairs_from_one_language_share_a_splitter_and_agree_with_minisbd(engine: ArgosEngine) -> None:
    fr, ar = _pair(engine, "fr"), _pair(engine, "ar")
    assert fr.splitter is ar.splitter  # one ONNX session, each text split once per cycle
    texts = [
        "Ferry Line Opens to the Northern Islands",  # a headline: no MiniSBD call needed
        "The mayor said the bridge reopens on Monday.",
        "The mayor spoke. Work starts soon! Will it end?",
        "Line one\nline two",
        " ".join(newsgen.sentences(6)),
    ]
    minisbd = fr.splitter.splitter.sentencizer  # argostranslate's own MiniSBDSentencizer
    for text in texts:
        expected = [s.strip() for s in minisbd.split_sentences(text) if s.strip()]
        assert fr.split(text) == expected == ar.split(text)


def test_batches_spread_over_workers_give_the_same_output_as_one_by_one(engine: ArgosEngine) -> None:
    pair = _pair(engine, "fr")
    assert pair._model().num_translators == 2
    sentences = newsgen.sentences(40, seed=3)
    batched = pair.translate_batch(sentences)
    assert batched == [pair.translate_batch([s])[0] for s in sentences]
    assert all(batched)
