"""Publishing is a transaction: a crash or a full disk in the middle of a publish loses no entry.

Regression for issue 10's first "Seen": the store filed entries into archive page 1 before the page was
written; a process that died there (or hit a full disk) left en with 8 of 12 entries and a current feed
whose prev-archive link led nowhere, until `publish --rebuild`.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.publish.writer import LocalFolderWriter
from tests.support.published import history, keys
from tests.support.service import write_article

LANGUAGES = ("en", "fr")


def _instance(make_instance: Callable[..., Path]) -> Path:
    root = make_instance(
        articles=(), engine="pseudo", targets=("fr",), extra="\n[publish]\nmax_entries = 5\n"
    )
    return root


def _add(root: Path, numbers: range) -> None:
    for n in numbers:
        write_article(root / "articles", f"story-{n:02d}", f"Story {n}", f"Story number {n}.", day=1 + n)


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _expected(n: int) -> list[str]:
    return [f"story-{i:02d}" for i in range(n)]


def test_a_full_disk_at_the_first_archive_page_loses_nothing(
    make_instance: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _instance(make_instance)
    _add(root, range(8))
    assert _cli(root, "run", "--once") == 0
    for lang in LANGUAGES:
        assert keys(history(root / "feeds", lang)) == _expected(8)
    _add(root, range(8, 12))

    real_write = LocalFolderWriter.write

    def full_at_archive(self: LocalFolderWriter, relpath: str, data: bytes) -> bool:
        if relpath.startswith("en/archive/1/"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.root / relpath))
        return real_write(self, relpath, data)

    monkeypatch.setattr(LocalFolderWriter, "write", full_at_archive)
    assert _cli(root, "run", "--once") == 1
    monkeypatch.undo()

    assert _cli(root, "run", "--once") == 0
    assert _cli(root, "publish") == 0
    for lang in LANGUAGES:
        assert keys(history(root / "feeds", lang)) == _expected(12), lang
