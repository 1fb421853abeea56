"""End to end through the CLI with tiny real models: quality gates, retries, human corrections, provenance."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.pipeline import open_context, run_cycle
from syndicator.store import utcnow
from tests.support.edits import replaced

FAILING_BOUNDS = "translation.length_ratio=[5.0, 9.0]"  # the tiny model writes ~0.1× the source's length


def _run(root: Path, *args: str, sets: tuple[str, ...] = ()) -> int:
    flags = [a for s in sets for a in ("--set", s)]
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *flags, *args])


def _entries(root: Path, lang: str) -> list[feedparser.FeedParserDict]:
    feed = feedparser.parse((root / "feeds" / lang / "atom.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return list(feed.entries)


def _json_items(root: Path, lang: str) -> dict[str, dict]:  # type: ignore[type-arg]
    data = json.loads((root / "feeds" / lang / "feed.json").read_text(encoding="utf-8"))
    return {item["id"].rsplit("/", 1)[1].removesuffix(".html"): item for item in data["items"]}


def _attempts(root: Path, lang: str) -> list[tuple[str, int]]:
    db = sqlite3.connect(root / "data" / "syndicator.db")
    try:
        return db.execute(
            "SELECT status, attempts FROM translations WHERE language = ? ORDER BY article_id", (lang,)
        ).fetchall()
    finally:
        db.close()


@pytest.fixture
def instance(make_instance: Callable[..., Path], model_files: Callable[..., Path]) -> Path:
    """Three articles, tiny real models for en→fr and en→ar."""
    root = make_instance(targets=("fr", "ar"))
    assert _run(root, "models", "install", str(model_files("en", "fr")), str(model_files("en", "ar"))) == 0
    return root


def test_failing_gate_keeps_entries_out_and_waits_for_a_change(
    instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now_ok = ("translation.retry_after=0s",)  # a timed retry would be due at once
    assert _run(instance, "run", "--once", sets=(FAILING_BOUNDS, *now_ok)) == 0
    out = capsys.readouterr().out
    assert "fr: 3 failed" in out and "ar: 3 failed" in out
    assert _entries(instance, "fr") == [] and len(_entries(instance, "en")) == 3
    assert _run(instance, "status") == 0
    status = capsys.readouterr().out
    assert "3 failed" in status and "length ratio" in status and "3 refused by the quality gate" in status

    # The same model, glossary and bounds give the same verdict: no retry, however often or late.
    assert _run(instance, "run", "--once", sets=(FAILING_BOUNDS, *now_ok)) == 0
    assert _attempts(instance, "fr") == [("failed", 1)] * 3
    later = utcnow() + timedelta(days=2)
    ctx = open_context(
        load_config(instance / "config" / "syndicator.toml", overrides=dict([FAILING_BOUNDS.split("=", 1)])),
        clock=lambda: later,
    )
    try:
        assert run_cycle(ctx).translated == {}
    finally:
        ctx.close()
    assert _attempts(instance, "fr") == [("failed", 1)] * 3
    assert _entries(instance, "fr") == []

    # The bounds they were judged by changed: they are tried again, pass and are published, attempts reset.
    assert _run(instance, "run", "--once") == 0
    assert _attempts(instance, "fr") == [("done", 0)] * 3
    assert len(_entries(instance, "fr")) == 3


def test_tiny_model_output_passes_the_default_gates(instance: Path) -> None:
    assert _run(instance, "run", "--once") == 0
    assert _attempts(instance, "fr") == [("done", 0)] * 3
    assert _attempts(instance, "ar") == [("done", 0)] * 3


def test_feeds_carry_provenance(instance: Path, model_files: Callable[..., Path]) -> None:
    assert _run(instance, "run", "--once") == 0
    item = _json_items(instance, "fr")["school-garden"]
    prov = item["_syndicator"]["translation"]
    assert (prov["engine"], prov["pivot"], prov["reviewed"]) == ("argos", None, False)
    assert prov["model"].startswith("argos:en-fr:1.0:")
    assert 'data-engine="argos"' in item["content_html"] and 'data-reviewed="false"' in item["content_html"]
    assert "_syndicator" not in json.dumps(_json_items(instance, "en")["school-garden"]["_syndicator"])
    assert "translation" not in _json_items(instance, "en")["school-garden"]["_syndicator"]


CORRECTION = """\
    ---
    title: Les élèves plantent un jardin à l’école
    summary: Les élèves de l’école de North Street ont planté quarante arbres.
    ---
    Les élèves de l’école de North Street ont planté **quarante arbres** cette semaine.
    """


def _correct(root: Path, text: str = CORRECTION, key: str = "school-garden", lang: str = "fr") -> Path:
    path = root / "corrections" / lang / "newsroom" / f"{key}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _garden(root: Path) -> feedparser.FeedParserDict:
    return next(e for e in _entries(root, "fr") if "school-garden" in e.id)


def test_correction_replaces_the_machine_translation_until_the_article_changes(
    instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(instance, "run", "--once") == 0
    machine = _garden(instance)
    machine_title = machine.title
    assert machine.updated == machine.published  # a machine translation is dated like its article
    path = _correct(instance)
    before = datetime.now(UTC).replace(microsecond=0)
    assert _run(instance, "run", "--once") == 0
    assert "fr: 1 human correction(s) applied" in capsys.readouterr().out
    entry = _garden(instance)
    assert entry.title == "Les élèves plantent un jardin à l’école"
    # A correction is a change of its language's entry: dated when it was applied, with an "Updated" line.
    assert datetime(*entry.updated_parsed[:6]).replace(tzinfo=UTC) >= before
    assert entry.published == machine.published
    en = next(e for e in _entries(instance, "en") if "school-garden" in e.id)
    assert en.updated == en.published  # the other languages did not change
    content = entry.content[0].value
    assert "Mis à jour" in content
    assert "Traduction relue par la rédaction" in content and "traduit automatiquement" not in content
    assert "<strong>quarante arbres</strong>" in content
    prov = _json_items(instance, "fr")["school-garden"]["_syndicator"]["translation"]
    assert (prov["engine"], prov["reviewed"]) == ("human", True)
    assert len(_entries(instance, "fr")) == 3  # the other entries are still machine translations

    # Later runs keep it, and rewrite nothing.
    assert _run(instance, "run", "--once") == 0
    capsys.readouterr()
    assert main(["--config", str(instance / "config" / "syndicator.toml"), "run", "--once"]) == 0
    assert "0 file(s) written" in capsys.readouterr().out
    assert _garden(instance).title == "Les élèves plantent un jardin à l’école"

    # The source article changes: the machine translation takes over and the correction is stale.
    article = instance / "articles" / "2026-03-02-school-garden.md"
    article.write_text(replaced(article.read_text(), "forty trees this week", "fifty trees this week"))
    assert _run(instance, "run", "--once") == 0
    capsys.readouterr()
    entry = _garden(instance)
    assert entry.title != "Les élèves plantent un jardin à l’école" and entry.title
    assert entry.title == machine_title  # same title sentence, from the translation memory
    assert "traduit automatiquement" in entry.content[0].value
    assert _run(instance, "status") == 0
    status = capsys.readouterr().out
    assert f"STALE (the article changed; machine translation used until you update it): {path}" in status
    assert _run(instance, "status", "--json") == 0
    assert json.loads(capsys.readouterr().out)["corrections"]["stale"] == [str(path)]
    assert _run(instance, "run", "--once") == 0  # still stale: not applied again
    assert _garden(instance).title == machine_title

    # The editor updates the file for the new version: it is in place again.
    _correct(instance, replaced(CORRECTION, "quarante arbres", "cinquante arbres"))
    assert _run(instance, "run", "--once") == 0
    assert "cinquante arbres" in _garden(instance).content[0].value
    capsys.readouterr()
    assert _run(instance, "status", "--json") == 0
    fixes = json.loads(capsys.readouterr().out)["corrections"]
    assert (fixes["applied"], fixes["stale"]) == (1, [])

    # Removing the file gives the entry back to the machine.
    path.unlink()
    assert _run(instance, "run", "--once") == 0
    assert "traduit automatiquement" in _garden(instance).content[0].value


def test_broken_correction_files_are_reported_by_name_and_skipped(
    instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_title = _correct(instance, "---\nsummary: x\n---\nBody.\n")
    bad_yaml = _correct(instance, "---\ntitle: [unclosed\n---\nBody.\n", key="night-market")
    unknown = _correct(instance, CORRECTION, key="no-such-article")
    not_target = _correct(instance, CORRECTION, lang="de")
    good = _correct(instance, replaced(CORRECTION, "jardin", "pont"), key="harbour-bridge")
    assert _run(instance, "run", "--once") == 0
    out = capsys.readouterr().out
    assert f"problem: {no_title}: missing 'title' in front matter" in out
    assert f"problem: {bad_yaml}: front matter is not valid YAML" in out
    assert f"problem: {unknown}: no article 'no-such-article' from source 'newsroom'" in out
    assert f"problem: {not_target}: 'de' is not a configured language" in out
    assert "fr: 1 human correction(s) applied" in out
    titles = {e.id.rsplit("/", 1)[1]: e.title for e in _entries(instance, "fr")}
    assert titles["harbour-bridge.html"] == "Les élèves plantent un pont à l’école"
    assert len(titles) == 3  # the broken corrections left their articles to the machine
    assert good.is_file()
    assert _run(instance, "status") == 0
    status = capsys.readouterr().out
    assert f"problem: {no_title}: missing 'title'" in status
    assert "corrections (" in status and "1 in place" in status


def test_long_backlogs_log_progress(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(articles=(), engine="pseudo", targets=("fr",))
    for i in range(60):
        (root / "articles" / f"a{i:02}.md").write_text(
            f"---\ntitle: Story number {i}\ndate: 2026-03-01T10:00:00Z\n---\nThe story number {i} is told.\n"
        )
    assert main(["--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    err = capsys.readouterr().err
    assert "fr: 50/60 articles translated" in err and "fr: 60/60 articles translated" in err
    assert "translating:" not in err  # no bar when stderr is not a terminal


def test_the_service_wakes_up_for_due_retries_and_new_corrections(instance: Path) -> None:
    from syndicator.service import Service

    assert _run(instance, "run", "--once", sets=(FAILING_BOUNDS,)) == 0  # failures due in 10 minutes
    config = load_config(instance / "config" / "syndicator.toml")
    ctx = open_context(config)
    try:
        service = Service(ctx)
        assert service.work_due()  # the first look always asks for a pass
        assert not service.work_due()  # nothing due, nothing new
        _correct(instance)
        assert service.work_due()
        # Refusals wait for a change, not a timer…
        ctx.store.clock = lambda: utcnow() + timedelta(hours=1)
        assert not service.work_due()
        # …while a failure with a retry time (an engine crash, a full disk) is due when its time comes.
        db = sqlite3.connect(instance / "data" / "syndicator.db")
        with db:
            db.execute("UPDATE translations SET depends = '' WHERE status = 'failed'")
        db.close()
        assert service.work_due()
    finally:
        ctx.close()


def test_a_correction_into_the_source_language_of_a_foreign_article(
    instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An article written in French in an English newsroom is translated into English too; that can be corrected.
    (instance / "articles" / "note.md").write_text(
        "---\ntitle: Note de la mairie\nlanguage: fr\ndate: 2026-03-04T09:00:00Z\n---\nLa mairie ferme tôt.\n"
    )
    _correct(instance, "---\ntitle: A note from the town hall\n---\nThe town hall closes early.\n", key="note",
             lang="en")  # fmt: skip
    same_language = _correct(instance, CORRECTION, key="note", lang="fr")
    assert _run(instance, "run", "--once") == 0
    out = capsys.readouterr().out
    assert "en: 1 human correction(s) applied" in out
    assert f"problem: {same_language}: the article is written in fr: nothing to correct" in out
    titles = [e.title for e in _entries(instance, "en")]
    assert "A note from the town hall" in titles


def _categories(root: Path, key: str, lang: str = "fr") -> list[str]:
    entry = next(e for e in _entries(root, lang) if key in e.id)
    return [t.term for t in entry.get("tags", [])]


def test_a_correction_keeps_the_languages_tags(instance: Path) -> None:
    """A correction that says nothing about tags turned the entry's categories back into English: it keeps
    the translated ones; one that gives tags has them (in the article's order)."""
    assert _run(instance, "run", "--once") == 0
    machine = _categories(instance, "harbour-bridge")
    assert len(machine) == 2 and machine != ["transport", "bridge"]  # the engine's (tiny model's) words
    body = "---\ntitle: Le pont rouvre\n---\nLe pont du port a rouvert.\n"
    _correct(instance, body, key="harbour-bridge")
    assert _run(instance, "run", "--once") == 0
    assert _categories(instance, "harbour-bridge") == machine
    _correct(instance, body.replace("---\nLe", "tags: [transports, pont]\n---\nLe"), key="harbour-bridge")
    assert _run(instance, "run", "--once") == 0
    assert _categories(instance, "harbour-bridge") == ["transports", "pont"]
    assert sorted(_categories(instance, "harbour-bridge", "en")) == ["bridge", "transport"]
