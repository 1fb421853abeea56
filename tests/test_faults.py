"""The fault-injection hook itself: labels normalize to one kind per point, specs parse or fail clearly,
points are counted per kind, and recording appends one line per point."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator import faults
from syndicator.publish.writer import LocalFolderWriter

NORMALIZED = [
    (faults.WRITE, "fr/archive/3/rss.xml", "<lang>/archive/<n>/rss.xml"),
    (faults.WRITE, "zh-Hant/archive/12/feed.json.gz", "<lang>/archive/<n>/feed.json.gz"),
    (faults.WRITE, "ar/newsroom/harbour-bridge.html", "<lang>/<source>/<entry>.html"),
    (faults.WRITE, "ar/newsroom/harbour-bridge.html.gz", "<lang>/<source>/<entry>.html.gz"),
    (faults.WRITE, "en/atom.xml", "<lang>/atom.xml"),
    (faults.WRITE, "en/feed.xsl", "<lang>/feed.xsl"),
    (faults.WRITE, "index.html", "index.html"),
    (faults.DELETE, "fr/archive/9/rss.xml", "<lang>/archive/<n>/rss.xml"),
    (faults.COMMIT, "TranslationsMixin.save_translation", "TranslationsMixin.save_translation"),
]


@pytest.mark.parametrize(("kind", "label", "normalized"), NORMALIZED)
def test_labels_normalize_to_their_kind(kind: str, label: str, normalized: str) -> None:
    assert faults.normalize(kind, label) == normalized


@pytest.mark.parametrize("spec", ["kill write x", "explode write x 1", "enospc write x 0", "record"])
def test_a_bad_spec_says_what_is_expected(spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(faults.ENV, spec)
    with pytest.raises(ValueError, match="MODE KIND LABEL N"):
        faults.point(faults.WRITE, "en/rss.xml")


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(faults.ENV, raising=False)
    assert not faults.active()
    assert faults.point(faults.WRITE, "en/rss.xml") is faults.NOTHING


def test_only_the_nth_point_of_the_kind_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFolderWriter(tmp_path)
    monkeypatch.setenv(faults.ENV, "enospc write <lang>/archive/<n>/rss.xml 2")
    assert store.write("en/rss.xml", b"a")  # another kind: not counted
    assert store.write("en/archive/1/rss.xml", b"a")
    with pytest.raises(OSError, match="No space left on device") as caught:
        store.write("fr/archive/4/rss.xml", b"a")
    assert str(tmp_path / "fr/archive/4/rss.xml") in str(caught.value)  # the target, not the temp file
    assert store.write("fr/archive/5/rss.xml", b"a")
    assert not list(tmp_path.rglob("*.tmp"))  # the failed write left no temp file


def test_recording_lists_every_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFolderWriter(tmp_path / "feeds")
    log = tmp_path / "points.tsv"
    monkeypatch.setenv(faults.ENV, f"record {log}")
    store.write("en/archive/1/atom.xml", b"a")
    store.write("en/archive/1/atom.xml", b"a")  # unchanged: not written, so not a point
    store.delete("en/archive/1/atom.xml")
    assert log.read_text().splitlines() == [
        "write\ten/archive/1/atom.xml\t<lang>/archive/<n>/atom.xml",
        "delete\ten/archive/1/atom.xml\t<lang>/archive/<n>/atom.xml",
    ]
    assert not (tmp_path / "feeds" / "en").exists()  # the emptied folders went with the file
