"""Entry validation (sources/validate.py): each case in tests/data/validation/cases.json, and the wiring that
makes every source kind pass through it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syndicator.cli import main
from syndicator.models import ArticleInput
from syndicator.sources import ValidatedSource, make_source
from syndicator.sources.validate import MAX_BODY, MAX_TITLE, Rejected, validate
from tests.conftest import DATA

CASES = json.loads((DATA / "validation" / "cases.json").read_text(encoding="utf-8"))
CONFIGURED = ("en", "fr", "es", "ar", "zh", "pt-BR")
NOW = datetime(2026, 3, 10, tzinfo=UTC)
LONG_TITLE = " ".join(["harbour"] * 200)  # 1,599 characters
GENERATED: dict[str, Any] = {
    "@long-title": LONG_TITLE,
    "@long-title-cut": LONG_TITLE[: LONG_TITLE[:MAX_TITLE].rfind(" ")] + "…",
    "@60-tags": [f"t{i}" for i in range(60)],
    "@50-tags": [f"t{i}" for i in range(50)],
    "@huge-body": "<p>" + "x" * MAX_BODY + "</p>",
}


def _value(value: Any) -> Any:
    return GENERATED.get(value, value) if isinstance(value, str) else value


def _item(fields: dict[str, Any]) -> ArticleInput:
    base: dict[str, Any] = {"source": "newsroom", "key": "story", "language": "en", "title": "Bridge opens",
                            "body_html": "<p>Open.</p>", "published": "2026-03-01T10:00:00+08:00"}  # fmt: skip
    base.update({k: _value(v) for k, v in fields.items()})
    for name in ("published", "modified"):
        if isinstance(base.get(name), str):
            base[name] = datetime.fromisoformat(base[name])
    base["dates_written"] = tuple(base.get("dates_written", ("", "")))
    base["tags"] = tuple(base.get("tags", ()))
    return ArticleInput(**base)


def _year_one_plus_14() -> datetime:
    # fromisoformat reads it; only the conversion to UTC overflows, as in the store in issue 10.
    return datetime.fromisoformat("0001-01-01T00:00:00+14:00")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_validation_case(case: dict[str, Any]) -> None:
    item = _item(case["item"])
    if "rejected" in case:
        with pytest.raises(Rejected, match=None) as caught:
            validate(item, CONFIGURED, NOW)
        assert case["rejected"] in str(caught.value)
        return
    clean, notes = validate(item, CONFIGURED, NOW)
    for field, expected in case["expect"].items():
        got = getattr(clean, field)
        assert (list(got) if isinstance(got, tuple) else got) == _value(expected), field
    for expected_note in case["notes"]:
        assert any(expected_note in note for note in notes), (expected_note, notes)
    assert len(notes) == len(case["notes"]), notes


def test_year_one_in_kiribati_really_overflows() -> None:
    with pytest.raises(OverflowError):
        _year_one_plus_14().astimezone(UTC)


def test_every_source_kind_is_validated(tmp_path: Path) -> None:
    from syndicator.config import SourceConfig
    from syndicator.sources import SOURCE_KINDS, SourceContext

    for kind in ("folder", "feed", "web"):
        options = {"path": tmp_path} if kind == "folder" else {"url": "http://127.0.0.1:9/"}
        cfg = SourceConfig(name="s", kind=kind, every=timedelta(minutes=5), language="en", options=options)
        assert isinstance(make_source(cfg, SourceContext(timezone=ZoneInfo("UTC"))), ValidatedSource)
    assert set(SOURCE_KINDS) == {"folder", "feed", "web"}  # a new kind: add it above


def test_bad_items_are_reported_by_file_and_the_rest_are_stored(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(articles=["2026-03-03-night-market"], engine="pseudo", targets=("fr",))
    drops = {
        "a-overflow.json": {"title": "Old", "date": "0001-01-01T00:00:00+14:00"},
        "b-klingon.json": {"title": "Qapla", "date": "2026-03-01T10:00:00Z", "language": "tlh"},
        "c-fine.json": {"title": "Fine", "date": "2026-03-01T10:00:00Z", "language": "fr_FR",
                        "url": "javascript:alert(1)"},
    }  # fmt: skip
    for name, article in drops.items():
        (root / "articles" / name).write_text(json.dumps(article), encoding="utf-8")
    assert main(["--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "a-overflow.json" in out and "out of range in UTC" in out
    assert "b-klingon.json" in out and "'tlh' is not a language code" in out
    assert "c-fine.json" in out and "url 'javascript:alert(1)' left out" in out
    # fr_FR is French: published as the French feed's original, not as a language of its own.
    assert (root / "feeds" / "fr" / "newsroom" / "c-fine.html").is_file()
    assert not (root / "feeds" / "fr_FR").exists() and not (root / "feeds" / "fr-FR").exists()
    assert (root / "feeds" / "en" / "newsroom" / "night-market.html").is_file()
