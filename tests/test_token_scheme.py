"""Proof that the placeholder tokens survive every installed engine whole: not split, inflected nor case-folded.

Apertium, every English→X pair Debian ships: each token of a battery of sentences (tokens as names after
honorifics, at a sentence start, in brackets, before punctuation, after abbreviations) comes back exactly once,
as written. Argos, through the tiny real model: the package's own sentence splitter and SentencePiece model
keep tokens whole; the model's output is noise, so what is checked is that no token debris can be published.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.config import TranslationConfig
from syndicator.translate import EngineOptions
from syndicator.translate.apertium import ApertiumEngine
from syndicator.translate.argos import ArgosEngine
from syndicator.translate.packages import install
from syndicator.translate.protect import TOKEN_RE, Protected, Protector, token
from tests.support.apertium import english_pairs

# {1}…{4} are tokens; each frame is a context an engine was seen to damage letter tokens in.
FRAMES = [
    "Mr. {1} said {2} is open.",  # en-gl: "ZXQ/ZXq/ZxQ/Zxq1 ZXQ dito2"
    "{1} and {2} are open.",  # en-eo: "zxq1 kaj ZXQ2"; eng-spa: "ZXQ1 Y ZXQ2"
    "The {1} of president {2} will be here {3}.",  # en-gl: "ZXQ de presidente2"
    "Ms. {1} met {2}, {3} and {4}.",
    "Dr. {1} and Prof. {2} of the {3} met the {4} minister.",  # en-eo: "D-ro. zxq1"
    "{1}, the festival closes.",
    "She works for the {1} ({2}) in {3}.",
    "Read {1} the report {2} now, {3} free {4}.",
    "The plan of {1} costs {2} more than in {3}.",
    'He said: "{1}".',
    "{1}: {2}",
    "The {1}. {2} road opens {3}.",  # en-cat: "El Zxq1. zxq2"
    "Gen. {1} arrived with {2} residents.",
    "No. {1} is up; then {2}!",
    "Tickets cost {1} dollars, {2} more than in {3}.",
    "The mayor, {1}, said so.",
    "Write to {1} or visit {2}.",
    "St. {1} Hospital and U.S. {2} said.",
]


def _sentences() -> list[tuple[str, list[str]]]:
    out = []
    for frame in FRAMES:
        numbers = sorted({int(n) for n in re.findall(r"\{(\d)\}", frame)})
        tokens = [token(n) for n in numbers]
        out.append((frame.format("", *tokens), tokens))
    return out


@pytest.mark.parametrize(("language", "mode"), english_pairs())
def test_tokens_come_back_whole_through_every_apertium_pair(tmp_path: Path, language: str, mode: str) -> None:
    pair = ApertiumEngine(EngineOptions(TranslationConfig(packages_dir=tmp_path), data_dir=tmp_path)).pair(
        "en", language
    )
    assert pair is not None and pair.mode == mode
    sentences = _sentences()
    raw = pair.translate_batch([s for s, _ in sentences])
    for (source, tokens), output in zip(sentences, raw, strict=True):
        clean, _, _ = pair.read_marks(source, output)
        found = [m.group() for m in TOKEN_RE.finditer(clean)]
        assert sorted(found) == tokens, (source, output)  # each once, exactly as written
        # Nothing else that looks like a piece of one: no digits but the tokens'.
        assert not re.search(r"\d", TOKEN_RE.sub("", clean)), (source, output)


def test_tokens_survive_the_argos_package_tokenizer_and_splitter(
    tmp_path: Path, model_files: Callable[[str, str], Path]
) -> None:
    install(model_files("en", "fr"), tmp_path / "models")
    pair = ArgosEngine(
        EngineOptions(TranslationConfig(packages_dir=tmp_path / "models"), data_dir=tmp_path)
    ).pair("en", "fr")
    assert pair is not None
    for source, tokens in _sentences():
        pieces = pair.pkg.tokenizer.encode(source)
        assert pair.pkg.tokenizer.decode(pieces) == source  # no <unk>, nothing merged across a token
        assert "<unk>" not in pieces
        # The splitter never cuts inside a token nor after one that ends a clause.
        assert [t for part in pair.split(source) for t in TOKEN_RE.findall(part)] == [
            t[1:] for t in sorted(tokens, key=source.index)
        ]
    # The model's output is noise: deterministic, and a run whose tokens do not come back is refused,
    # never restored with debris.
    prot = Protected(Protector("fr", 2026))
    prot.add_text("Ms. Grace Long of the OHA spoke on March 3, 2026 at https://x.org/a.")
    first, second = pair.translate_batch([prot.text]), pair.translate_batch([prot.text])
    assert first == second
    restored = prot.restore(first[0], markup=False)
    assert restored is None or not re.search(r"\d", restored.replace("2026", "").replace("3", ""))


def test_a_token_glued_to_a_word_is_refused() -> None:
    """eng-cat reads "The 8001's plan" as "Els 8001han costos…" (letter tokens fared no better: "ZXQ1ha"):
    no token there, so the run is refused and that block falls back to the safe mode."""
    prot = Protected(Protector("ca", 2026, names=frozenset()))
    prot.add_text("The OHA's plan costs 12 euros.")
    assert prot.text == "The 8001's plan costs 8002 euros."
    assert prot.restore("Els 8001han costos de pla 8002 euros.", markup=False) is None


def test_spans_apart_by_a_point_are_one_token() -> None:
    prot = Protected(Protector("es", 2026, names=frozenset()))
    prot.add_text("Call 555.1234 or see OHA.HCL now.")
    assert prot.text == "Call 8001 or see 8002 now."
    assert prot.restore("Llame 8001 o vea 8002 ahora.", markup=False) == "Llame 555.1234 o vea OHA.HCL ahora."
