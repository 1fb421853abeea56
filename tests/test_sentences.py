"""The one rule-based sentence splitter, driven by tests/data/sentences/cases.toml, and its invariant."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicator.translate.apertium import ApertiumPair
from syndicator.translate.pseudo import PseudoPair
from syndicator.translate.sentences import split_sentences

CASES: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).resolve().parent / "data" / "sentences" / "cases.toml").read_text(encoding="utf-8")
)["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:30] for c in CASES])
def test_sentences(case: dict[str, Any]) -> None:
    assert split_sentences(case["text"]) == case["expected"]


def test_engines_without_a_model_of_their_own_share_it() -> None:
    text = CASES[0]["text"]
    apertium = ApertiumPair("apertium", "eng-spa", "en", "es", "1", 10.0)
    assert apertium.split(text) == PseudoPair("en", "fr").split(text) == split_sentences(text)


@given(st.text(alphabet=st.sampled_from(list("aZ. !?\"'()。\n3é")), max_size=60))
def test_sentences_keep_every_word_in_order(text: str) -> None:
    pieces = split_sentences(text)
    assert " ".join(pieces).split() == text.split()
    assert all(p and p == p.strip() for p in pieces)
    assert split_sentences(" ".join(pieces)) == pieces  # splitting is stable: memory keys do not drift
