"""The Apertium engine with the real `apertium` command and the eng-spa pair (Debian: apertium-eng-spa)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from syndicator.config import TranslationConfig
from syndicator.translate import EngineOptions, make_engine
from syndicator.translate.apertium import ApertiumEngine, ApertiumPair, install_hint, known_package
from syndicator.translate.sentences import split_sentences


def _has_eng_spa() -> bool:
    if shutil.which("apertium") is None:
        return False
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=30, check=False)
    return "eng-spa" in listed.stdout.split()


needs_apertium = pytest.mark.skipif(
    not _has_eng_spa(),
    reason="apertium with the eng-spa pair is not installed (Debian: apertium apertium-eng-spa; "
    "scripts/test.sh installs them when run as root)",
)


def _engine(tmp_path: Path, binary: str = "apertium") -> ApertiumEngine:
    return ApertiumEngine(
        EngineOptions(TranslationConfig(packages_dir=tmp_path), data_dir=tmp_path), binary=binary
    )


def _pair(tmp_path: Path) -> ApertiumPair:
    pair = _engine(tmp_path).pair("en", "es")
    assert pair is not None
    return pair


def test_sentence_splitting_keeps_abbreviations() -> None:
    text = (
        'Ms. Grace Long spoke at 3 p.m. today. A cold front came. "It works!" She left. It costs 3.5 dollars.'
    )
    assert split_sentences(text) == [
        "Ms. Grace Long spoke at 3 p.m. today.",
        "A cold front came.",
        '"It works!"',
        "She left.",
        "It costs 3.5 dollars.",
    ]


def test_missing_binary_means_no_model(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = _engine(tmp_path, binary="apertium-not-installed")
    with caplog.at_level(logging.WARNING):
        assert engine.pair("en", "es") is None
        assert engine.pair("en", "es") is None
    warnings = [r.getMessage() for r in caplog.records if "not installed" in r.getMessage()]
    assert len(warnings) == 1 and "apertium-eng-spa" in warnings[0]  # logged once, says what to install
    assert engine.describe() == []


@needs_apertium
def test_pair_identity_and_missing_pair(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(
        "apertium", EngineOptions(TranslationConfig(packages_dir=tmp_path), data_dir=tmp_path)
    )
    pair = engine.pair("en", "es")
    assert pair is not None
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "apertium-eng-spa"], capture_output=True, text=True, check=False
    ).stdout
    assert pair.model_id == f"apertium:eng-spa:{version}:marked"
    assert ("en", "es") in {(m.source, m.target) for m in engine.describe()}
    with caplog.at_level(logging.WARNING):
        assert engine.pair("en", "fr") is None
    # Debian has no such package: the hint must not invent "apertium-eng-fra".
    assert "apertium-eng-fra" not in caplog.text and "apt-cache search apertium" in caplog.text


@pytest.mark.parametrize(("source", "target"), [("en", "es"), ("es", "en"), ("en", "ca"), ("en", "gl"),
                                                ("en", "eo"), ("en", "hr"), ("en", "sr"), ("en", "bs")])  # fmt: skip
def test_every_package_a_hint_names_exists(source: str, target: str) -> None:
    """The class behind "install apertium-eng-fra": a hint names only packages Debian really has (these
    are installed here from scripts/apt-packages.txt), and names none for a pair it does not know."""
    package = known_package(source, target)
    assert package is not None and package in install_hint(source, target)
    installed = subprocess.run(["dpkg-query", "-W", package], capture_output=True, text=True, check=False)
    if installed.returncode != 0 and shutil.which("dpkg-query") is None:
        pytest.skip("not a Debian system")
    assert installed.returncode == 0, f"{package} is not a package here: {installed.stderr}"
    for unknown in (("en", "fr"), ("en", "de"), ("fr", "en")):
        assert known_package(*unknown) is None and "apertium-" not in install_hint(*unknown)


@needs_apertium
def test_batch_is_one_call_and_splits_back(tmp_path: Path) -> None:
    pair = _pair(tmp_path)
    calls = []
    real_run = pair._run

    def counting(doc: str) -> str:
        calls.append(doc)
        return real_run(doc)

    pair._run = counting  # type: ignore[method-assign]
    sentences = [
        "The city has a new library.",
        "Fish & chips <cost> more.",
        'She said: "It\'s ready".',
        "Ms. Grace Long will speak.",
    ] * 10
    out = pair.translate_batch(sentences)
    assert len(calls) == 1 and len(out) == 40
    assert out[0] == "La ciudad tiene una biblioteca nueva."
    assert "&" in out[1] and "<" in out[1]  # escaped on the way in, unescaped on the way out
    assert out[1:40:4] == [out[1]] * 10  # every copy came back in its own slot


@needs_apertium
def test_what_apertium_does_to_placeholders(tmp_path: Path) -> None:
    """Measured: number tokens pass through unmarked; the marks are counted, then removed with stray capitals."""
    pair = _pair(tmp_path)
    sources = [
        "The 8001 (8002) will open on 8003.",
        "8001 and 8002 are open.",  # letter tokens: "ZXQ1 Y ZXQ2 ..."
        "There will be 8001 crossings a day.",  # Apertium alone: " habrá 8001 ..."
        "Gusts of up to 8001 kilometres per hour.",  # unknown first word: Apertium alone "*Gusts De ..."
    ]
    raw = pair.translate_batch(sources)
    assert raw[3].startswith("*Gusts")  # the marks are in what the engine returns (and the memory keeps)
    read = [pair.read_marks(src, out) for src, out in zip(sources, raw, strict=True)]
    out = [text for text, _, _ in read]
    assert out[0].startswith("El 8001 (8002) abrirá") and "8003" in out[0]
    assert out[1].startswith("8001 y 8002")
    assert out[2].startswith("Habrá 8001")
    assert out[3].startswith("Gusts de hasta 8001")
    assert [marked for _, _, marked in read] == [0, 0, 0, 1]  # tokens are never unknown words
    assert not any(mark in s for s in out for mark in ("*", "#", "@"))
