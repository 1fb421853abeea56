"""Which Apertium modes this machine has, pytest marks for tests that need one, and a real pair to use."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

from syndicator.config import TranslationConfig
from syndicator.translate import EngineOptions, PairTranslator
from syndicator.translate.apertium import ApertiumEngine

# Every English→X pair Debian ships (language code, mode, Debian package): scripts/apt-packages.txt installs
# them for CI.
ENGLISH_PAIRS = (
    ("es", "eng-spa", "apertium-eng-spa"),
    ("ca", "eng-cat", "apertium-eng-cat"),
    ("gl", "en-gl", "apertium-en-gl"),
    ("eo", "en-eo", "apertium-eo-en"),
    ("hr", "eng-hbs_HR", "apertium-hbs-eng"),
)


@functools.cache
def installed_modes() -> frozenset[str]:
    """`apertium -l`, or nothing when apertium is not installed."""
    if shutil.which("apertium") is None:
        return frozenset()
    listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=30, check=False)
    return frozenset(listed.stdout.split())


def needs_mode(mode: str, package: str) -> pytest.MarkDecorator:
    """Skip (saying what to install) unless the Apertium mode is installed."""
    return pytest.mark.skipif(
        mode not in installed_modes(),
        reason=f"apertium mode {mode} is not installed (Debian: apertium {package}; scripts/test.sh "
        "installs it when run as root)",
    )


def english_pairs() -> list[object]:
    """pytest params over ENGLISH_PAIRS, each skipped unless installed."""
    return [
        pytest.param(lang, mode, marks=needs_mode(mode, pkg), id=lang) for lang, mode, pkg in ENGLISH_PAIRS
    ]


def english_pair(tmp_path: Path, language: str) -> PairTranslator:
    """The installed Apertium pair English → language (an instance folder of its own under tmp_path)."""
    engine = ApertiumEngine(EngineOptions(TranslationConfig(packages_dir=tmp_path), data_dir=tmp_path))
    pair = engine.pair("en", language)
    assert pair is not None, f"no Apertium en → {language} here (scripts/apt-packages.txt installs it)"
    return pair
