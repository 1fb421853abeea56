"""`syndicator verify [--repair]` and the start-up check, against real damage done to a published tree.

Each case breaks the tree one way (a table below), then: `verify` exits 1 naming the file; `verify --repair`
rebuilds from the store; `verify` is clean again; an independent RFC 5005 reader sees every entry once.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import main
from tests.support.edits import edit_file
from tests.support.published import history, keys
from tests.support.service import write_article

LANGUAGES = ("en", "fr")
ARTICLES = 9


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance with 9 articles published in en and fr, 3 per document (two archive pages), gzip copies."""
    from tests.conftest import build_instance

    root = build_instance(
        tmp_path_factory.mktemp("verify") / "instance",
        articles=(),
        engine="pseudo",
        targets=("fr",),
        extra="\n[publish]\nmax_entries = 3\n",
    )
    edit_file(root / "config" / "syndicator.toml", "[serve]\n", "[serve]\ngzip_files = true\n")
    for n in range(ARTICLES):
        write_article(
            root / "articles", f"story-{n:02d}", f"Story {n}", f"Story number {n}. " * 20, day=1 + n
        )
    assert _cli(root, "run", "--once") == 0
    return root


@pytest.fixture
def instance(published: Path, tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(published, root)
    return root


def _entry_ids(root: Path, relpath: str) -> list[str]:
    return [item["id"] for item in json.loads((root / "feeds" / relpath).read_bytes())["items"]]


def _move_entry(root: Path) -> None:
    """An entry of archive page 1 copied into the current feed's JSON: there twice."""
    current = json.loads((root / "feeds/fr/feed.json").read_bytes())
    page = json.loads((root / "feeds/fr/archive/1/feed.json").read_bytes())
    current["items"].append(page["items"][0])
    (root / "feeds/fr/feed.json").write_text(json.dumps(current))


def _stale_gzip(root: Path) -> None:
    path = root / "feeds/en/archive/2/atom.xml.gz"
    path.write_bytes(gzip.compress(b"<feed/>"))


def _unlink(relpath: str) -> Callable[[Path], None]:
    return lambda root: (root / "feeds" / relpath).unlink()


def _rmtree(relpath: str) -> Callable[[Path], None]:
    return lambda root: shutil.rmtree(root / "feeds" / relpath)


def _page_past_the_last(root: Path) -> None:
    shutil.copytree(root / "feeds/fr/archive/1", root / "feeds/fr/archive/7")


def _truncate(root: Path) -> None:
    (root / "feeds/en/archive/2/atom.xml").write_bytes(b"<feed")


def _wrong_archive_link(root: Path) -> None:
    (root / "feeds/en/archive/1/feed.json").write_bytes((root / "feeds/en/archive/2/feed.json").read_bytes())


# (case, damage, a file the finding names, whether the start-up check repairs it too). Stories 6-8 are in the
# current feed (3 per document), 0-5 in archive pages 1 and 2.
DAMAGE: list[tuple[str, Callable[[Path], object], str, bool]] = [
    ("archive page deleted", _unlink("en/archive/1/rss.xml"), "en/archive/1/rss.xml", True),
    ("archive folder deleted", _rmtree("fr/archive/2"), "fr/archive/2/atom.xml", True),
    ("current feed deleted", _unlink("fr/atom.xml"), "fr/atom.xml", True),
    ("language folder deleted", _rmtree("fr"), "fr/", True),
    ("page past the last", _page_past_the_last, "fr/archive/7/rss.xml", True),
    ("current entry page deleted", _unlink("en/newsroom/story-08.html"), "en/newsroom/story-08.html", True),
    ("archived entry page deleted", _unlink("fr/newsroom/story-01.html"), "fr/newsroom/story-01.html", False),
    ("truncated document", _truncate, "en/archive/2/atom.xml", False),
    ("entry twice", _move_entry, "fr/feed.json", False),
    ("stale gzip copy", _stale_gzip, "en/archive/2/atom.xml.gz", False),
    ("wrong archive link", _wrong_archive_link, "en/archive/1/feed.json", False),
]


def test_a_clean_tree_verifies(instance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _cli(instance, "verify") == 0
    out = capsys.readouterr().out
    assert "0 problem(s)" in out and "store integrity: ok" in out and "18 feed document(s)" in out
    assert re.search(r"\b\d+ entries checked", out) and "(y/ies)" not in out


@pytest.mark.parametrize(("case", "damage", "named", "at_start"), DAMAGE, ids=[d[0] for d in DAMAGE])
def test_verify_finds_and_repairs(
    instance: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    damage: Callable[[Path], object],
    named: str,
    at_start: bool,
) -> None:
    damage(instance)
    capsys.readouterr()
    assert _cli(instance, "verify") == 1
    captured = capsys.readouterr()
    assert named in captured.out and "verify --repair" in captured.err
    assert _cli(instance, "verify", "--repair") == 0
    assert "repaired from the store" in capsys.readouterr().out
    assert _cli(instance, "verify") == 0
    for lang in LANGUAGES:
        assert keys(history(instance / "feeds", lang)) == [f"story-{n:02d}" for n in range(ARTICLES)]
    assert not (instance / "feeds/fr/archive/7").exists()


@pytest.mark.parametrize(
    ("case", "damage", "named"), [d[:3] for d in DAMAGE if d[3]], ids=[d[0] for d in DAMAGE if d[3]]
)
def test_the_first_publish_repairs_what_start_up_finds(
    instance: Path, case: str, damage: Callable[[Path], object], named: str
) -> None:
    damage(instance)
    assert _cli(instance, "publish") == 0  # nothing changed in the store: only the check finds work
    assert _cli(instance, "verify") == 0


def test_verify_exits_1_until_a_failed_language_is_published(
    instance: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_article(instance / "articles", "late", "Late story", "A late story.", day=20)
    monkeypatch.setenv("SYNDICATOR_FAULTS", "enospc write <lang>/<source>/<entry>.html 1")
    assert _cli(instance, "run", "--once") == 1  # en's entry page hits the full disk; fr goes on
    monkeypatch.delenv("SYNDICATOR_FAULTS")
    capsys.readouterr()
    assert _cli(instance, "verify") == 1
    assert "en/newsroom/late.html" in capsys.readouterr().out
    assert _cli(instance, "publish") == 0
    assert _cli(instance, "verify") == 0
    assert "late" in keys(history(instance / "feeds", "en"))
