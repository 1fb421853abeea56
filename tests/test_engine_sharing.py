"""One engine per name per process, made under a lock and shared by the pipeline, `status` and /status;
what an engine finds out about its installation is not asked again on every call."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.config import TranslationConfig, load_config
from syndicator.pipeline.context import open_context
from syndicator.status import coverage
from syndicator.translate import ENGINES, EngineOptions, make_engine, shared_engine
from syndicator.translate import apertium as apertium_module
from syndicator.translate.apertium import ApertiumEngine


def test_one_engine_per_name_even_when_threads_ask_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    pseudo = make_engine("pseudo", EngineOptions(TranslationConfig(), tmp_path))  # registers the engines
    gate = threading.Barrier(8)

    def counting(options: EngineOptions) -> object:
        made.append(options)
        return type(pseudo)(options)

    monkeypatch.setitem(ENGINES, "pseudo", counting)
    options = EngineOptions(TranslationConfig(packages_dir=tmp_path), tmp_path)
    got: list[object] = []

    def ask() -> None:
        gate.wait(timeout=30)
        got.append(shared_engine("pseudo", options))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(made) == 1 and len(got) == 8 and all(e is got[0] for e in got)
    # A reloaded config with other engine settings gets a new engine, which is then the shared one.
    other = EngineOptions(TranslationConfig(packages_dir=tmp_path, beam_size=4), tmp_path)
    assert shared_engine("pseudo", other) is not got[0] and len(made) == 2
    assert shared_engine("pseudo", other) is shared_engine("pseudo", other) and len(made) == 2


def test_status_and_the_pipeline_share_the_engine(
    make_instance: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_instance(targets=("fr", "de"), engine="pseudo")
    config = load_config(root / "config" / "syndicator.toml")
    made: list[EngineOptions] = []
    factory = ENGINES["pseudo"]
    monkeypatch.setitem(ENGINES, "pseudo", lambda options: made.append(options) or factory(options))
    ctx = open_context(config)
    try:
        engine = ctx.engine_for("fr")
        for _ in range(5):  # `syndicator status` and every /status render
            assert [row["covered"] for row in coverage(config)] == ["direct", "direct"]
        assert ctx.engine_for("de") is engine and len(made) == 1
    finally:
        ctx.close()


FAKE_APERTIUM = """#!/bin/sh
echo "$0 $*" >> "{log}"
if [ "$1" = "-l" ]; then echo eng-spa; echo spa-eng; fi
"""
FAKE_DPKG_QUERY = """#!/bin/sh
echo "$0 $*" >> "{log}"
echo 0.9-test
"""


def _script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


def test_apertium_lists_its_modes_once_until_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each unit and each status render asks for a pair; `apertium -l` and dpkg-query ran for every one."""
    bin_dir, modes = tmp_path / "bin", tmp_path / "modes"
    bin_dir.mkdir()
    modes.mkdir()
    log = tmp_path / "calls.log"
    binary = _script(bin_dir / "apertium", FAKE_APERTIUM.format(log=log))
    _script(bin_dir / "dpkg-query", FAKE_DPKG_QUERY.format(log=log))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(apertium_module, "_MODES_DIR", modes)
    engine = ApertiumEngine(EngineOptions(TranslationConfig(), tmp_path), binary=str(binary))

    for _ in range(20):
        pair = engine.pair("en", "es")
        assert pair is not None and pair.model_id == "apertium:eng-spa:0.9-test:marked"
    calls = log.read_text(encoding="utf-8").splitlines()
    assert [c.split()[-1] for c in calls] == ["-l", "apertium-eng-spa"]  # once each, not 20 times

    (modes / "eng-cat.mode").write_text("", encoding="utf-8")  # a pair installed: the folder changed
    os.utime(modes, ns=(0, modes.stat().st_mtime_ns + 1_000_000_000))
    assert engine.pair("en", "es") is not None
    assert len(log.read_text(encoding="utf-8").splitlines()) == 4  # listed and versioned again
