"""The quality gate on short texts, and refusals that wait for a change instead of a timer: unit rows for
the engine-signal gates, then end to end through the CLI with the real Apertium eng-spa pair."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest

from syndicator.cli import main
from syndicator.translate import Signals
from syndicator.translate.quality import signal_problem
from tests.test_apertium import needs_apertium

# (words, marked, judged sentences, copied, refused?) and why: a ratio over a handful of words is noise.
SIGNAL_ROWS = [
    (9, 1, 1, 0, False, "one unknown name in a nine-word brief (11%)"),
    (4, 1, 1, 0, False, "'Naive date. Body one.' (25%)"),
    (9, 2, 1, 0, False, "two of nine: still a brief with names"),
    (9, 3, 1, 0, True, "three of nine: a third of the text unknown"),
    (30, 3, 3, 0, False, "three of thirty is exactly the 10% bound"),
    (30, 4, 3, 0, True, "four of thirty is over the bound"),
    (104, 91, 8, 0, True, "eng-hbs: 88% unknown"),
    (20, 0, 1, 1, True, "the only judged sentence came back untranslated"),
    (30, 0, 3, 1, False, "one quoted sentence of three left in English"),
    (30, 0, 3, 2, True, "two of three sentences copied: the engine did not translate"),
]


@pytest.mark.parametrize(
    ("words", "marked", "sentences", "copied", "refused", "why"),
    SIGNAL_ROWS,
    ids=[r[-1] for r in SIGNAL_ROWS],
)
def test_engine_signal_gates_on_short_texts(
    words: int, marked: int, sentences: int, copied: int, refused: bool, why: str
) -> None:
    signals = Signals(words=words, unknown=marked, marked=True, sentences=sentences, copied=copied)
    assert bool(signal_problem(signals, "apertium", 0.1)) is refused, why


def _write(root: Path, key: str, title: str, body: str) -> None:
    text = f"---\ntitle: {title}\ndate: 2026-03-01T10:00:00Z\nid: {key}\n---\n{body}\n"
    (root / "articles" / f"{key}.md").write_text(text, encoding="utf-8")


def _run(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _es_keys(root: Path) -> set[str]:
    feed = feedparser.parse((root / "feeds" / "es" / "atom.xml").read_bytes())
    return {e.id.rsplit("/", 1)[1].removesuffix(".html") for e in feed.entries}


def _attempts(root: Path) -> dict[str, tuple[str, int]]:
    db = sqlite3.connect(root / "data" / "syndicator.db")
    try:
        rows = db.execute(
            "SELECT a.key, t.status, t.attempts FROM translations t JOIN articles a ON a.id = t.article_id "
            "WHERE t.language = 'es'"
        ).fetchall()
    finally:
        db.close()
    return {key: (status, attempts) for key, status, attempts in rows}


@needs_apertium
def test_short_articles_pass_and_a_refusal_waits_for_a_change(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(articles=[], targets=("es",), extra='\n[translation.engines]\nes = "apertium"\n')
    # The newcomer's two briefs: Apertium marks "guid" (1 of 9) and "Naive" (1 of 4).
    _write(root, "relative", "Relative guid story", "First version of the relative story.")
    _write(root, "naive", "Naive date", "Body one.")
    # Three made-up words in twelve: a real refusal.
    _write(root, "nonsense", "Harbour news", "The zorblax and the quuxite met the flimflorp at the harbour.")
    assert _run(root, "run", "--once") == 0
    out = capsys.readouterr().out
    assert _es_keys(root) == {"relative", "naive"}
    assert _attempts(root)["nonsense"] == ("failed", 1)
    assert (
        "es: 2 translated, 1 failed" in out
        and "es: 1 not published (refused or failed), e.g. apertium:" in out
    )

    # Nothing it depends on changed: not tried again however often the service runs (even with no wait)…
    assert _run(root, "--set", "translation.retry_after=0s", "run", "--once") == 0
    out = capsys.readouterr().out
    assert _attempts(root)["nonsense"] == ("failed", 1)
    # …and the summary of a run that did not touch it still says what is missing from es, and why.
    assert "es: 1 not published (refused or failed), e.g. apertium:" in out and "marked unknown" in out
    assert _run(root, "status") == 0
    status = capsys.readouterr().out
    assert "1 refused by the quality gate" in status and "retried from" not in status
    assert _run(root, "status", "--json") == 0
    es = next(r for r in json.loads(capsys.readouterr().out)["languages"] if r["language"] == "es")
    assert es["refused"] == 1 and any("marked unknown" in e for e in es["errors"])

    # A gate setting it depends on changed: tried again, and it passes.
    assert _run(root, "--set", "translation.max_unknown_ratio=0.5", "run", "--once") == 0
    assert _attempts(root)["nonsense"] == ("done", 0)
    assert _es_keys(root) == {"relative", "naive", "nonsense"}
