"""Golden files: the exact bytes of every language's feeds for fixed articles, engine and clock.

Any change to the output shows up here as a diff to review. After an intended change, rewrite them with
`UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py` and commit the diff with the change.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.config import load_config
from syndicator.pipeline import open_context, run_cycle
from tests.conftest import build_instance

GOLDEN = Path(__file__).resolve().parent / "golden"
LANGUAGES = ("en", "fr", "ar", "zh", "ru")
FILES = ("rss.xml", "atom.xml", "feed.json")
CLOCK = datetime(2026, 3, 7, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The feeds folder of the sample articles (en, zh, ar, ru originals), pseudo engine, fixed clock."""
    root = build_instance(
        tmp_path_factory.mktemp("golden") / "instance",
        folders=("articles", "articles-intl"),
        targets=LANGUAGES[1:],
        engine="pseudo",
    )
    ctx = open_context(load_config(root / "config" / "syndicator.toml"), clock=lambda: CLOCK)
    try:
        run_cycle(ctx)
    finally:
        ctx.close()
    return root / "feeds"


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_feed_matches_golden_file(published: Path, lang: str, name: str) -> None:
    actual = (published / lang / name).read_bytes()
    golden = GOLDEN / lang / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual)
    assert golden.is_file(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert actual == golden.read_bytes(), (
        f"{lang}/{name} differs from {golden}; if the change is intended, rerun with UPDATE_GOLDEN=1 "
        "and review the diff"
    )
