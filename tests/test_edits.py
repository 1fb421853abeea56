"""The test helpers that edit text refuse an edit that would match nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.edits import edit_file, replaced


def test_replaced_edits_or_fails() -> None:
    assert replaced("every = 5m", "5m", "10s") == "every = 10s"
    assert replaced(b"a a", b"a", b"b", 1) == b"b a"
    with pytest.raises(AssertionError, match="expected 'every'"):
        replaced("interval = 5m", "every", "often")


def test_edit_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "syndicator.toml"
    path.write_text('targets = ["fr"]\n', encoding="utf-8")
    edit_file(path, '["fr"]', '["fr", "de"]')
    assert path.read_text(encoding="utf-8") == 'targets = ["fr", "de"]\n'
    with pytest.raises(AssertionError, match=r"syndicator\.toml"):
        edit_file(path, "batch_size", "batch_size = 1")
