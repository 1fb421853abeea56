"""Edits of config files, articles and fixture bodies that fail loudly when the text to replace is not there.

A silent `str.replace` that matched nothing leaves the file as it was, and the test goes on proving nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import AnyStr


def replaced(text: AnyStr, old: AnyStr, new: AnyStr, count: int = -1) -> AnyStr:
    """text with old replaced by new (the first `count` times); AssertionError if old is not in text."""
    assert old in text, f"the edit expected {old!r} in the text, and it is not there"
    return text.replace(old, new, count)


def edit_file(path: Path, old: str, new: str, count: int = -1) -> None:
    """Replace old by new in the UTF-8 file at path; AssertionError naming the file if old is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: the edit expected {old!r}, and it is not there"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
