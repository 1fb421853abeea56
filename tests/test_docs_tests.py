"""Every test the documentation names exists: docs/reliability.md's "which test proves it" cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

_NAMED = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)?)`|`::(\w+)`")
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_named_tests_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    current = ""
    for match in _NAMED.finditer(text):
        path, name, sibling = match.groups()
        if path:
            current = path
            assert (REPO / path).is_file(), f"{doc}: {path} does not exist"
        name = (name or "").removeprefix("::") or sibling or ""
        if name:
            assert current, f"{doc}: ::{name} follows no test file"
            assert f"def {name}(" in (REPO / current).read_text(encoding="utf-8"), f"{doc}: {current}::{name}"
