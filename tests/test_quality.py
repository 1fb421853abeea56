"""Quality gates on hand-made pairs, retry backoff in the store, and backlog progress lines."""

from __future__ import annotations

import io
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicator.models import DONE, FAILED, PENDING, ArticleInput, Translation
from syndicator.progress import BacklogProgress as Progress
from syndicator.store import Store
from syndicator.translate.quality import Bounds, Field, backoff, check, field_problem, html_problem

SENTENCE = "The harbour bridge reopened to traffic on Sunday morning after repairs."
BOUNDS = Bounds()


def problem(source: str, target: str, src: str = "en", tgt: str = "fr", html: bool = False) -> str:
    return field_problem(Field("body", source, target, html=html), src, tgt, BOUNDS)


def test_a_normal_translation_passes() -> None:
    assert (
        problem(SENTENCE, "Le pont du port a rouvert à la circulation dimanche matin après des travaux.")
        == ""
    )
    assert problem(SENTENCE, "港口大桥周日上午修复后重新通车。", tgt="zh") == ""
    assert problem("港口大桥周日上午修复后重新通车，市民可以正常出行了。", SENTENCE, src="zh", tgt="en") == ""


def test_empty_and_unchanged_fail() -> None:
    assert problem(SENTENCE, "  ") == "body: the translation is empty"
    assert problem(SENTENCE, SENTENCE) == "body: the translation is the untranslated source text"
    # Names, acronyms and numbers legitimately stay as they are.
    assert problem("Grace Long (OHA)", "Grace Long (OHA)") == ""
    assert problem("2026-03-03, 10:30", "2026-03-03, 10:30") == ""
    assert problem("12 345", "") == ""  # nothing for the model to do


def test_length_ratio_bounds_per_script_family() -> None:
    # The default lower bound is loose (the tiny test model writes ~0.1 of the source's length)…
    assert "length ratio" in problem(" ".join([SENTENCE] * 4), "Pont.")
    # …and configurable for real models.
    tight = Bounds(default=(0.3, 3.0))
    assert "length ratio 0.07" in field_problem(Field("body", SENTENCE, "Pont."), "en", "fr", tight)
    looping = "le pont le pont le pont " * 20
    assert "length ratio" in problem(SENTENCE, looping)
    # Into Chinese far fewer characters are normal; the default bounds would reject this one.
    zh = "大桥通车了"
    assert problem(SENTENCE, zh, tgt="zh") == ""
    assert "length ratio" in field_problem(Field("body", SENTENCE, zh), "en", "zh", Bounds(to_cjk=(0.2, 2.0)))
    # Short fields are left alone: "Ms. Long" → "Mme Long" says nothing about quality.
    assert problem("Ms. Long", "Madame Grace Long, directrice") == ""


def test_html_structure_is_compared() -> None:
    src = "<p>One <a href='x'>link</a>.</p><ul><li>a</li><li>b</li></ul>"
    good = "<p>Un <a href='x'>lien</a>.</p><ul><li>a</li><li>b</li></ul>"
    assert html_problem(src, good) == ""
    assert "lost <a>" in html_problem(src, "<p>Un lien.</p><ul><li>a</li><li>b</li></ul>")
    assert "unexpected </em>" in html_problem("<p>a</p>", "<p>a</em></p>")
    assert "never closed" in html_problem("<p>a</p>", "<p>a</p><em>b")
    assert "became" in html_problem(src, good.replace("<li>b</li>", "<li>b</li><li>c</li>"))
    assert problem(f"<p>{SENTENCE}</p><br>", f"<p>{SENTENCE[::-1]}</p><br/>", html=True) == ""


def test_check_joins_every_reason() -> None:
    fields = [Field("title", "Bridge reopens after long repairs", ""), Field("summary", SENTENCE, SENTENCE)]
    assert check(fields, "en", "fr", BOUNDS) == (
        "title: the translation is empty; summary: the translation is the untranslated source text"
    )


def test_backoff_doubles_up_to_a_day() -> None:
    delay = backoff(timedelta(minutes=10))
    assert [delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (10, 20, 40)]
    assert delay(50) == timedelta(days=1)
    assert backoff(timedelta(0))(3) == timedelta(0)


def test_failed_translations_wait_for_their_retry_time(store_url: str) -> None:
    now = [datetime(2026, 3, 3, 12, 0, tzinfo=UTC)]
    store = Store(store_url, clock=lambda: now[0])
    item = ArticleInput("src", "a", "en", "Title", "<p>Body</p>", now[0])
    article_id, _ = store.upsert_article(item, "h1")
    (article,) = store.articles([article_id])
    store.ensure_pending(article, ["fr"])
    delay = backoff(timedelta(minutes=10))
    store.save_translation(Translation(article_id, "fr", FAILED, error="body: empty"), backoff=delay)
    assert store.retry_due() == 0  # not in a tight loop
    now[0] += timedelta(minutes=10)
    assert store.retry_due() == 1
    assert store.pending() == [(article_id, "fr")]
    store.save_translation(Translation(article_id, "fr", FAILED, error="body: empty"), backoff=delay)
    (failed,) = store.failures()
    assert (failed.attempts, failed.next_retry) == (2, now[0] + timedelta(minutes=20))
    now[0] += timedelta(minutes=19)
    assert store.retry_due() == 0
    now[0] += timedelta(minutes=1)
    assert store.retry_due() == 1
    store.save_translation(Translation(article_id, "fr", DONE, title="Titre", body_html="<p>Corps</p>"))
    done = store.translations_for([article_id], "fr")[article_id]
    assert (done.status, done.attempts, done.next_retry) == (DONE, 0, None)
    assert store.pending() == [] and PENDING not in store.counts()["fr"]
    store.close()


def test_progress_lines_for_long_backlogs(caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    caplog.set_level(logging.INFO, logger="syndicator.progress")
    progress = Progress({"fr": 120, "ar": 10}, stream=io.StringIO(), clock=lambda: clock[0])
    assert progress.bar is None  # not a terminal
    progress.advance("fr", 50)
    progress.advance("fr", 50)  # within LOG_EVERY of the last line: quiet
    clock[0] += 30
    progress.advance("fr", 20)
    progress.advance("ar", 10)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["fr: 50/120 articles translated", "fr: 120/120 articles translated",
                     "ar: 10/10 articles translated"]  # fmt: skip
    caplog.clear()
    small = Progress({"fr": 3}, stream=io.StringIO())
    small.advance("fr", 3)
    assert not caplog.records  # a routine cycle stays quiet


def test_an_older_database_gets_the_new_columns(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "CREATE TABLE translations (article_id INTEGER NOT NULL, language VARCHAR(35) NOT NULL, "
        "status VARCHAR(16) NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, body_html TEXT NOT NULL, "
        "engine VARCHAR(50) NOT NULL, model_version VARCHAR(200) NOT NULL, pivot VARCHAR(35) NOT NULL, "
        "error TEXT NOT NULL, source_hash VARCHAR(64) NOT NULL, updated DATETIME, "
        "PRIMARY KEY (article_id, language))"
    )
    db.execute(
        "INSERT INTO translations VALUES (1, 'fr', 'failed', '', '', '', 'argos', 'm', '', 'x', 'h', NULL)"
    )
    db.commit()
    db.close()
    store = Store(f"sqlite:///{tmp_path}/old.db", upgrade=True)
    (old,) = store.failures()
    assert (old.attempts, old.next_retry, old.reviewed) == (0, None, False)
    assert store.retries_due() == store.retry_due() == 1  # no retry time recorded: due now
    store.close()


def test_progress_bar_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress({"fr": 60, "ar": 60}, stream=screen)
    progress.advance("fr", 60)
    progress.advance("ar", 60)
    progress.close()
    assert "translating" in screen.getvalue() and "120/120" in screen.getvalue()
