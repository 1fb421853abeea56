"""`syndicator publish [--rebuild]` through the CLI on a temp instance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import main


def test_publish_writes_changes_only_and_rebuild_restores_everything(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    cli = ["--config", str(root / "config" / "syndicator.toml"), "--set", "publish.max_entries=2"]
    assert main([*cli, "run", "--once"]) == 0
    feeds = root / "feeds"
    before = {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()}
    lost = [feeds / "fr" / "newsroom" / "harbour-bridge.html", feeds / "en" / "archive" / "1" / "atom.xml"]
    assert all(p in before for p in lost)
    for path in lost:
        path.unlink()
    capsys.readouterr()

    assert main([*cli, "publish"]) == 0
    # Nothing changed in the store; the first publish of a process checks the tree's structure, so the
    # archive page comes back. Entry pages are checked by `syndicator verify` (tests/test_verify.py).
    assert capsys.readouterr().out.startswith("1 file(s) written")
    assert lost[1].exists() and not lost[0].exists()

    assert main([*cli, "publish", "--rebuild"]) == 0
    assert capsys.readouterr().out.startswith("1 file(s) written")
    assert {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()} == before
