"""End to end through the real parts: CLI, the store on SQLite and on a real PostgreSQL, argostranslate with tiny
real models, feedparser."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sqlalchemy import text

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.publish.writer import FeedWriter, make_writer
from syndicator.store import Store
from tests.support.distributed import distributed_toml, stop_all, worker
from tests.support.edits import replaced


def _run(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _writer(root: Path) -> FeedWriter:
    """Where the instance publishes (its feeds folder, or the bucket of the distributed configuration)."""
    return make_writer(load_config(root / "config" / "syndicator.toml"))


def _files(root: Path) -> dict[str, bytes]:
    writer = _writer(root)
    return {rel: data for rel in writer.list() if (data := writer.read(rel)) is not None}


def _read(root: Path, relpath: str) -> bytes:
    data = _writer(root).read(relpath)
    assert data is not None, f"{relpath} was not published"
    return data


def _query(root: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the instance's store, whichever database it is on."""
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "postgresql", "celery"])
def instance(
    request: pytest.FixtureRequest,
    make_instance: Callable[..., Path],
    model_files: Callable[[str, str], Path],
) -> Iterator[Path]:
    """Three articles; models for en→fr and en→ar; none for ru. The store on SQLite (the default), or on
    PostgreSQL, created by `syndicator migrate` as an operator would; or the distributed configuration: that
    store, RabbitMQ, two `syndicator worker` processes owning different pairs (one also publishes), and the
    feeds in an S3 bucket (moto's server). The tests read the feeds through the instance's own feed writer."""
    extra = ""
    if request.param in ("postgresql", "celery"):
        extra = f'\n[store]\nurl = "{request.getfixturevalue("postgres").database()}"\n'
    if request.param == "celery":
        # Feeds on object storage too (moto's server): what workers on other machines publish to.
        s3 = request.getfixturevalue("s3")
        extra = distributed_toml(
            request.getfixturevalue("postgres"),
            request.getfixturevalue("rabbitmq"),
            publish=s3.publish_lines(),
        )
    root = make_instance(targets=("fr", "ar", "ru"), extra=extra)
    if extra:
        assert _run(root, "migrate") == 0
    assert _run(root, "models", "install", str(model_files("en", "fr")), str(model_files("en", "ar"))) == 0
    workers = []
    if request.param == "celery":
        workers = [worker(root, ["en-fr"], publish=True), worker(root, ["en-ar", "en-ru"])]
    try:
        yield root
    finally:
        stop_all(workers)


def test_feeds_for_every_language(instance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(instance, "run", "--once") == 0
    out = capsys.readouterr().out
    assert "ru: 3 without a model" in out
    for lang, count in (("en", 3), ("fr", 3), ("ar", 3), ("ru", 0)):
        for name in ("rss.xml", "atom.xml"):
            feed = feedparser.parse(_read(instance, f"{lang}/{name}"))
            assert not feed.bozo, (lang, name, feed.get("bozo_exception"))
            assert feed.feed.language == lang
            assert len(feed.entries) == count, (lang, name)
            assert len({e.id for e in feed.entries}) == count
            assert feed.feed.links[0].href.endswith(f"/{lang}/{name}") or any(
                link.rel == "self" and link.href.endswith(f"/{lang}/{name}") for link in feed.feed.links
            )
    en = feedparser.parse(_read(instance, "en/atom.xml"))
    fr = feedparser.parse(_read(instance, "fr/atom.xml"))
    ar = feedparser.parse(_read(instance, "ar/atom.xml"))
    # GUIDs differ per language, so readers do not merge entries across language feeds.
    assert not {e.id for e in en.entries} & {e.id for e in fr.entries}
    garden = next(e for e in fr.entries if "school-garden" in e.id)
    content = garden.content[0].value
    assert "2 mars 2026" in content  # display date formatted for fr, in the site's time zone
    assert "traduit automatiquement" in content  # the machine-translation notice from the fr catalog
    assert content.count("<li>") == 2  # paragraph and list structure survive translation
    assert garden.title and garden.title != "Students Plant a School Garden"
    assert 'dir="rtl"' in ar.entries[0].content[0].value
    assert ar.feed.title == "غرفة الأخبار"  # site title localized through locales/ar
    # Every entry links its versions in the other languages (and, last in Atom, itself: see publish/feeds.py).
    hreflangs = {link.get("hreflang") for link in garden.links if link.get("hreflang")}
    assert hreflangs == {"en", "ar", "fr"}


def test_provenance_and_status(instance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(instance, "run", "--once") == 0
    capsys.readouterr()
    rows = _query(instance, "SELECT language, status, engine, model_version, pivot FROM translations")
    by_lang = {lang: {r[1:] for r in rows if r[0] == lang} for lang in ("fr", "ar", "ru")}
    ((status, engine, model, pivot),) = by_lang["fr"]
    assert (status, engine, pivot) == ("done", "argos", "")
    assert model.startswith("argos:en-fr:1.0:")
    assert {status for status, *_ in by_lang["ru"]} == {"no-model"}
    assert _run(instance, "status", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    langs = {row["language"]: row for row in data["languages"]}
    assert (langs["fr"]["done"], langs["ru"]["no-model"]) == (3, 3)
    assert "no argos model for en → ru" in langs["ru"]["errors"][0]
    assert {m["target"]: m["covered"] for m in data["models"]} == {
        "fr": "direct",
        "ar": "direct",
        "ru": "missing",
    }


def test_rerun_changes_nothing_and_an_edit_updates_one_entry_everywhere(instance: Path) -> None:
    assert _run(instance, "run", "--once") == 0
    first = _files(instance)
    assert _run(instance, "run", "--once") == 0
    assert _files(instance) == first

    path = instance / "articles" / "2026-03-01-harbour-bridge.md"
    path.write_text(replaced(path.read_text(encoding="utf-8"), "six weeks", "seven weeks"), encoding="utf-8")
    assert _run(instance, "run", "--once") == 0
    second = _files(instance)
    changed = {name for name in second if second[name] != first.get(name)}
    pages = {f"{lang}/newsroom/harbour-bridge.html" for lang in ("en", "fr", "ar")}
    feeds = {f"{lang}/{n}" for lang in ("en", "fr", "ar") for n in ("rss.xml", "atom.xml", "feed.json")}
    assert changed == pages | feeds
    for lang in ("en", "fr", "ar"):
        before = {e.id: e for e in feedparser.parse(first[f"{lang}/atom.xml"]).entries}
        after = {e.id: e for e in feedparser.parse(second[f"{lang}/atom.xml"]).entries}
        assert before.keys() == after.keys()  # an update, not a new entry
        differs = {i for i in after if after[i].content[0].value != before[i].content[0].value}
        assert differs == {i for i in after if "harbour-bridge" in i}
        bridge = next(e for i, e in after.items() if "harbour-bridge" in i)
        assert bridge.updated > before[bridge.id].updated  # RFC 3339 UTC strings sort by time


def test_translations_are_deterministic(
    make_instance: Callable[..., Path], model_files: Callable[[str, str], Path], tmp_path: Path
) -> None:
    outputs = []
    for _ in range(2):
        root = make_instance(targets=("fr",))
        assert _run(root, "models", "install", str(model_files("en", "fr"))) == 0
        assert _run(root, "run", "--once") == 0
        outputs.append(
            [(e.title, e.content[0].value) for e in feedparser.parse(_read(root, "fr/atom.xml")).entries]
        )
        shutil.rmtree(root)  # the next instance is built afresh in the same place
    assert outputs[0] == outputs[1]


def test_pivot_through_english(
    make_instance: Callable[..., Path], model_files: Callable[[str, str], Path]
) -> None:
    root = make_instance(source="es", targets=("en", "fr"))
    assert _run(root, "models", "install", str(model_files("es", "en")), str(model_files("en", "fr"))) == 0
    assert _run(root, "run", "--once") == 0
    rows = dict(_query(root, "SELECT language, pivot FROM translations WHERE status = 'done'"))
    assert rows == {"en": "", "fr": "en"}
    assert len(feedparser.parse(_read(root, "fr/rss.xml")).entries) == 3


def test_model_installed_later_fills_the_gap(instance: Path, model_files: Callable[[str, str], Path]) -> None:
    assert _run(instance, "run", "--once") == 0
    assert not feedparser.parse(_read(instance, "ru/atom.xml")).entries
    assert _run(instance, "models", "install", str(model_files("en", "ru"))) == 0
    assert _run(instance, "run", "--once") == 0
    assert len(feedparser.parse(_read(instance, "ru/atom.xml")).entries) == 3


def test_broken_article_is_reported_and_others_publish(
    instance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (instance / "articles" / "broken.md").write_text("---\ntitle: No date\n---\nBody\n", encoding="utf-8")
    assert _run(instance, "run", "--once") == 0
    out = capsys.readouterr().out
    assert "broken.md" in out and "missing 'date'" in out
    assert len(feedparser.parse(_read(instance, "fr/atom.xml")).entries) == 3
    assert _run(instance, "status") == 0
    assert "broken.md: missing 'date'" in capsys.readouterr().out
