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
    assert capsys.readouterr().out.startswith("0 file(s) written")  # nothing changed in the store
    assert not any(p.exists() for p in lost)

    assert main([*cli, "publish", "--rebuild"]) == 0
    assert capsys.readouterr().out.startswith(f"{len(lost)} file(s) written")
    assert {p: p.read_bytes() for p in feeds.rglob("*") if p.is_file()} == before
