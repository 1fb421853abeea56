"""Publishing into a read-only or full feeds/ folder: previous feeds stay whole, the error is reported.

Real mounts, not mocks: as root, chmod does not stop writes, so a read-only bind mount and a tiny tmpfs
stand in for the admin's read-only and full disks. Where mounting is not allowed the test skips and says why
(tests/test_pipeline.py covers ENOSPC injected at the writer everywhere).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import feedparser
import pytest

from syndicator.cli import main


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here (mount {' '.join(args)}): {result.stderr.strip()}")


@contextmanager
def mounted(target: Path, *args: str) -> Iterator[None]:
    _mount(*args)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _snapshot(feeds: Path) -> dict[str, bytes]:
    return {str(p.relative_to(feeds)): p.read_bytes() for p in feeds.rglob("*") if p.is_file()}


def _run(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _all_parse(feeds: Path) -> None:
    for path in feeds.rglob("*"):
        if path.name in ("rss.xml", "atom.xml"):
            assert not feedparser.parse(path.read_bytes()).bozo, path
        elif path.name == "feed.json":
            json.loads(path.read_bytes())
    assert not [p for p in feeds.rglob("*") if p.name.endswith(".tmp")]


def _edit_article(root: Path, body_extra: str) -> None:
    path = root / "articles" / "2026-03-03-night-market.md"
    path.write_text(path.read_text(encoding="utf-8") + body_extra, encoding="utf-8")


def test_read_only_feeds_keep_previous_files(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    feeds = root / "feeds"
    assert _run(root, "run", "--once") == 0
    before = _snapshot(feeds)
    _edit_article(root, "\nThe market now opens on Saturdays too.\n")
    with mounted(feeds, "--bind", str(feeds), str(feeds)):
        _mount("-o", "remount,ro,bind", str(feeds))
        capsys.readouterr()
        assert _run(root, "run", "--once") == 1
        err = capsys.readouterr().err
        assert "Read-only file system" in err and str(feeds) in err and "writable" in err
        assert _snapshot(feeds) == before
        assert _run(root, "status") == 0
        assert "PUBLISHING FAILS" in capsys.readouterr().out
    _all_parse(feeds)
    assert _run(root, "run", "--once") == 0  # writable again: the edit is published
    assert "Saturdays" in (feeds / "fr" / "atom.xml").read_text(encoding="utf-8")
    assert _run(root, "status") == 0
    assert "PUBLISHING FAILS" not in capsys.readouterr().out


def test_full_disk_keeps_previous_files(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    feeds = root / "feeds"
    feeds.mkdir()
    with mounted(feeds, "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(feeds)):
        assert _run(root, "run", "--once") == 0
        before = _snapshot(feeds)
        assert sum(map(len, before.values())) < 128 * 1024  # the feeds fit; the edit below will not
        _edit_article(root, "\n" + "A very long market report. " * 12000 + "\n")
        capsys.readouterr()
        assert _run(root, "run", "--once") == 1
        err = capsys.readouterr().err
        assert "No space left on device" in err and str(feeds) in err
        after = _snapshot(feeds)
        # Every file is either its previous version or a complete new one; none half-written or left over.
        _all_parse(feeds)
        assert set(after) == set(before)
        for name in (
            "en/rss.xml",
            "en/atom.xml",
            "en/feed.json",
            "fr/rss.xml",
            "fr/atom.xml",
            "fr/feed.json",
        ):
            assert after[name] == before[name] or len(after[name]) > 0
        assert after["fr/newsroom/night-market.html"] == before["fr/newsroom/night-market.html"]
