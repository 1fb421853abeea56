"""translate/sbd.py gives the sentences minisbd gives, from the same tensors: on the tiny package's real ONNX
splitter, and with every feature minisbd knows through a recording model (the tiny splitter reads only one)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minisbd import SBDetect
from minisbd.modules import Vocab

from bench import newsgen
from syndicator.translate.sbd import MiniSbd

# Characters that matter to a splitter: sentence ends, white space of several kinds, paragraph breaks,
# capitals, digits, what URLs and e-mail addresses are made of, CJK ends.
ALPHABET = "aZé 1.!?\n\t\u00a0\u2003,:/@w-。？"
PIECES = [
    "Mr. Long", "said.", "https://ferry.example.org/a.b", "info@ferry.example.org", "www.example.com",
    "3.50", "U.S.", "\n\n", "  ", "Tuesday!", "why?", "news.gov.uk", "«Oui.»", "漢字。",
]  # fmt: skip
TEXTS = st.text(alphabet=ALPHABET, max_size=60) | st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join)


@pytest.fixture(scope="module")
def detector(model_files: Callable[[str, str], Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """minisbd's detector on the tiny package's ONNX splitter."""
    folder = tmp_path_factory.mktemp("sbd")
    with zipfile.ZipFile(model_files("en", "fr")) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".onnx"))
        (folder / "en.onnx").write_bytes(archive.read(name))
    return SBDetect(str(folder / "en.onnx"), use_gpu=False)


def test_news_paragraphs_split_as_minisbd_splits_them(detector: Any) -> None:
    fast = MiniSbd(detector)
    pool = newsgen.sentences(40)
    for start in range(0, 40, 4):
        text = " ".join(pool[start : start + 4])
        assert fast.split(text) == detector.sentences(text) == pool[start : start + 4]


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
def test_any_text_splits_as_minisbd_splits_it(detector: Any, text: str) -> None:
    assert MiniSbd(detector).split(text) == detector.sentences(text)


class _Recording:
    """An ONNX session stand-in: records its inputs; classes follow from them (so a wrong unit id or feature
    changes the sentences too)."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray]] = []

    def run(self, _: object, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        units, features = inputs["units"], inputs["features"]
        self.calls.append((units.copy(), features.copy()))
        score = units * 7 + np.arange(units.shape[1]) * 3 + (features * [1, 2, 4, 8, 16]).sum(axis=2)
        return [((score[:, :, None] + np.arange(5) * 5) % 11).astype(np.float32)]


def _minisbd_with(session: _Recording, batch_size: int) -> Any:
    """minisbd's own detector with every feature function on, over a small vocabulary."""
    detector = SBDetect.__new__(SBDetect)
    detector.session = session
    detector.config = {
        "skip_newline": False, "max_seqlen": 1000, "no_ssplit": False, "batch_size": batch_size,
        "feat_funcs": ["space_before", "capitalized", "numeric", "end_of_para", "start_of_para"],
        "use_dictionary": False, "num_dict_feat": 0,
    }  # fmt: skip
    units = ["<PAD>", "<UNK>", " ", ".", "a", "Z", "1", "?", "\n"]
    detector.vocab = Vocab.load_state_dict(
        {"lang": "en", "idx": 0, "cutoff": 0, "lower": False, "_unit2id": {u: i for i, u in enumerate(units)},
         "_id2unit": units}
    )  # fmt: skip
    detector.dictionary = None
    return detector


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, batch_size=st.sampled_from([1, 2, 32]))
def test_every_feature_and_batching_feed_the_model_what_minisbd_feeds_it(text: str, batch_size: int) -> None:
    theirs, ours = _Recording(), _Recording()
    expected = _minisbd_with(theirs, batch_size).sentences(text)
    assert MiniSbd(_minisbd_with(ours, batch_size)).split(text) == expected
    assert len(ours.calls) == len(theirs.calls)
    for (units, features), (their_units, their_features) in zip(ours.calls, theirs.calls, strict=True):
        assert np.array_equal(units, their_units) and np.array_equal(features, their_features)


def test_what_it_does_not_reproduce_is_left_to_minisbd() -> None:
    session = _Recording()
    detector = _minisbd_with(session, 4)
    detector.config["max_seqlen"] = 1000
    long_paragraph = "a " * 600 + "end."  # longer than the model's window: minisbd slides over it
    assert MiniSbd(detector).split(long_paragraph) == detector.sentences(long_paragraph)
    detector.config["use_dictionary"] = True
    assert not MiniSbd(detector).supported
