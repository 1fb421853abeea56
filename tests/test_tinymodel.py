"""Tests for tests/support/tinymodel.py: tiny real Argos Translate packages built offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import ModuleType

import ctranslate2
import pytest
import sentencepiece as spm

try:
    from tests.support import tinymodel
except ModuleNotFoundError:
    # argos-translate-lt installs a top-level "tests" package into site-packages, which
    # shadows ours unless tests/ has an __init__.py; without one, pytest's "prepend"
    # import mode puts tests/ itself on sys.path, so "support" is importable.
    from support import tinymodel  # type: ignore[no-redef]

PAIR = ("en", "fr")
SAMPLE = "Hello world. This is a test."


def _argos_env(root: Path) -> dict[str, str]:
    """Return environment variables that confine argostranslate to root."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ARGOS_", "SNAP"))}
    env.update(
        HOME=str(root / "home"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_CACHE_HOME=str(root / "cache"),
        ARGOS_PACKAGES_DIR=str(root / "packages"),
    )
    return env


@pytest.fixture(scope="session")
def package_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory per session, so each (pair, seed, version) is built once."""
    return tmp_path_factory.mktemp("tinymodels")


@pytest.fixture(scope="session")
def en_fr(package_cache: Path) -> Path:
    """The en->fr package, seed 0."""
    return tinymodel.cached_package(*PAIR, package_cache)


@pytest.fixture(scope="session")
def argostranslate(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """Import argostranslate in-process without touching the real home directory."""
    # argostranslate.settings reads HOME/XDG_*/ARGOS_* and creates directories at import
    # time, so the environment only matters for the first import in this process.
    root = tmp_path_factory.mktemp("argos-in-process")
    env = _argos_env(root)
    with pytest.MonkeyPatch.context() as patch:
        for key in set(os.environ) - set(env):  # stray ARGOS_*/SNAP* settings
            patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        import argostranslate.package
        import argostranslate.sbd
    return argostranslate


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = tinymodel.build_package(tmp_path / "a", *PAIR, seed=0)
    second = tinymodel.build_package(tmp_path / "b", *PAIR, seed=0)
    other = tinymodel.build_package(tmp_path / "c", *PAIR, seed=1)

    assert first.name == second.name == "translate-en_fr-1.0.argosmodel"
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()

    def member(path: Path, name: str) -> bytes:
        with zipfile.ZipFile(path) as archive:
            return archive.read(f"translate-en_fr-1_0/{name}")

    # The in-memory SentencePiece training itself is deterministic, and seeded.
    assert member(first, "sentencepiece.model") == member(second, "sentencepiece.model")
    assert member(first, "sentencepiece.model") != member(other, "sentencepiece.model")
    assert member(first, "model/model.bin") != member(other, "model/model.bin")


def test_zip_layout_and_metadata(en_fr: Path) -> None:
    with zipfile.ZipFile(en_fr) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        metadata = json.loads(archive.read("translate-en_fr-1_0/metadata.json"))

    assert names == sorted(names)
    assert {name.split("/", 1)[0] for name in names} == {"translate-en_fr-1_0"}
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    root = "translate-en_fr-1_0/"
    for required in (
        "metadata.json",
        "sentencepiece.model",
        "model/model.bin",
        "model/config.json",
        "model/shared_vocabulary.json",
        "minisbd/en.onnx",
    ):
        assert root + required in names
    assert metadata == {
        "package_version": "1.0",
        "argos_version": "1.9",
        "from_code": "en",
        "from_name": "English",
        "to_code": "fr",
        "to_name": "French",
        "type": "translate",
        "links": [],
    }


def test_build_time(tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    start = time.perf_counter()
    path = tinymodel.build_package(tmp_path, "de", "en", seed=7)
    elapsed = time.perf_counter() - start
    # Reported, not asserted: timing depends on the machine.
    print(f"build_package took {elapsed:.3f}s for {path.stat().st_size} bytes")
    record_property("build_seconds", round(elapsed, 3))
    assert path.is_file()


def test_build_packages_and_cache(tmp_path: Path) -> None:
    paths = tinymodel.build_packages(tmp_path / "many", [("en", "de"), ("de", "en")], seed=3)
    assert [path.name for path in paths] == [
        "translate-en_de-1.0.argosmodel",
        "translate-de_en-1.0.argosmodel",
    ]

    cache = tmp_path / "cache"
    first = tinymodel.cached_package("en", "de", cache, seed=3)
    mtime = first.stat().st_mtime_ns
    assert tinymodel.cached_package("en", "de", cache, seed=3) == first
    assert first.stat().st_mtime_ns == mtime  # reused, not rebuilt
    assert first.read_bytes() == paths[0].read_bytes()
    other_seed = tinymodel.cached_package("en", "de", cache, seed=4)
    other_version = tinymodel.cached_package("en", "de", cache, seed=3, version="1.1")
    assert len({first, other_seed, other_version}) == 3
    assert other_version.name == "translate-en_de-1.1.argosmodel"


def test_rejects_too_small_vocabulary(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vocab_size"):
        tinymodel.build_package(tmp_path, *PAIR, vocab_size=tinymodel.MIN_VOCAB_SIZE - 1)


def test_package_loads_in_process(argostranslate: ModuleType, en_fr: Path, tmp_path: Path) -> None:
    package_dir = tinymodel.extract_package(en_fr, tmp_path)
    pkg = argostranslate.package.Package(package_dir)
    assert (pkg.from_code, pkg.to_code, pkg.type) == (*PAIR, "translate")
    assert pkg.packaged_sbd_path == package_dir / "minisbd"

    text = "Hello world. Привет мир. مرحبا بالعالم. 你好世界。 Price: 42 € 😀"
    tokens = pkg.tokenizer.encode(text)
    assert tokens
    # Every piece is in the model vocabulary, except characters SentencePiece never saw,
    # which it emits as <unk> (id 0) and CTranslate2 maps to its own <unk>.
    vocabulary = set(json.loads((package_dir / "model" / "shared_vocabulary.json").read_text()))
    processor = spm.SentencePieceProcessor(model_file=str(package_dir / "sentencepiece.model"))
    unknown = {token for token in tokens if token not in vocabulary}
    assert unknown and all(processor.piece_to_id(token) == processor.unk_id() for token in unknown)

    translator = ctranslate2.Translator(str(package_dir / "model"))
    for beam_size in (1, 4):
        result = translator.translate_batch(
            [tokens, pkg.tokenizer.encode("x")], beam_size=beam_size, max_decoding_length=64
        )
        for translation in result:
            hypothesis = translation.hypotheses[0]
            # The decoder stops on its own after about OUTPUT_TOKENS tokens.
            assert 0 < len(hypothesis) < 16
            assert not {"<blank>", "<unk>", "<s>", "</s>"} & set(hypothesis)
            assert pkg.tokenizer.decode(hypothesis).strip()


def test_sentence_splitting_uses_bundled_model(
    argostranslate: ModuleType, en_fr: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import minisbd.models

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("minisbd tried to download a model")

    monkeypatch.setattr(minisbd.models.urllib.request, "urlretrieve", no_download)
    pkg = argostranslate.package.Package(tinymodel.extract_package(en_fr, tmp_path))
    sentencizer = argostranslate.sbd.MiniSBDSentencizer(pkg)

    assert sentencizer.split_sentences("First one. Second one! Third?") == [
        "First one.",
        "Second one!",
        "Third?",
    ]
    # "." only ends a sentence before a space or the end; 。！？ always do.
    assert sentencizer.split_sentences("Pi is 3.14 today. Next") == ["Pi is 3.14 today.", "Next"]
    assert sentencizer.split_sentences("你好。世界！再见？") == ["你好。", "世界！", "再见？"]
    assert sentencizer.split_sentences("No terminal punctuation") == ["No terminal punctuation"]
    assert sentencizer.lazy_detector().model_file == str(pkg.package_path / "minisbd" / "en.onnx")


# Runs in a fresh interpreter: argostranslate fixes its directories at import time.
_TRANSLATE_SCRIPT = """
import json, socket, sys

def no_network(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = no_network
socket.create_connection = no_network

import argostranslate.package, argostranslate.translate

argostranslate.package.install_from_path(sys.argv[1])
installed = [
    [p.from_code, p.to_code, str(p.package_path)] for p in argostranslate.package.get_installed_packages()
]
translations = [argostranslate.translate.translate(text, "en", "fr") for text in sys.argv[2:]]
print(json.dumps({"installed": installed, "translations": translations}))
"""


def _translate_in_subprocess(package: Path, root: Path, *texts: str) -> dict[str, list]:
    """Install package into a fresh argostranslate home under root and translate texts."""
    completed = subprocess.run(
        [sys.executable, "-c", _TRANSLATE_SCRIPT, str(package), *texts],
        env=_argos_env(root),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_translate_through_argostranslate(en_fr: Path, tmp_path: Path) -> None:
    texts = (SAMPLE, "Новости дня. 今日新闻。 😀")
    first = _translate_in_subprocess(en_fr, tmp_path / "run1", *texts)
    second = _translate_in_subprocess(en_fr, tmp_path / "run2", *texts)

    assert first["installed"] == [["en", "fr", str(tmp_path / "run1" / "packages" / "translate-en_fr-1_0")]]
    translations = first["translations"]
    assert all(translation.strip() for translation in translations)
    assert translations[0] != SAMPLE
    assert second["translations"] == translations
    # Nothing was cached outside the temporary argostranslate home.
    assert not (tmp_path / "run1" / "data" / "argos-translate" / "minisbd").exists()
