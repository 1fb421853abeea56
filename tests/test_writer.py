"""Feed writers in syndicator.publish.writer: atomic writes, unchanged files left alone, path rules."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from syndicator.config import load_config
from syndicator.publish import writer
from syndicator.publish.writer import (
    FeedWriter,
    LocalFolderWriter,
    MemoryFeedWriter,
    make_writer,
    normalize_relpath,
    write_feeds,
)

BAD_PATHS = ["../x.xml", "fr/../../x.xml", "/etc/passwd", "", ".", "fr\\rss.xml", "a\x00b", "fr/.."]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def folder(tmp_path: Path) -> LocalFolderWriter:
    return LocalFolderWriter(tmp_path / "feeds")


def test_writers_satisfy_the_protocol(folder: LocalFolderWriter) -> None:
    assert isinstance(folder, FeedWriter)
    assert isinstance(MemoryFeedWriter(), FeedWriter)


def test_write_creates_folders_and_readable_file(folder: LocalFolderWriter) -> None:
    assert folder.write("fr/rss.xml", "<rss>é</rss>".encode()) is True
    target = folder.root / "fr" / "rss.xml"
    assert target.read_bytes() == "<rss>é</rss>".encode()
    assert stat.S_IMODE(target.stat().st_mode) == writer.DEFAULT_FILE_MODE
    assert folder.read("fr/rss.xml") == "<rss>é</rss>".encode()
    assert files_under(folder.root) == ["fr/rss.xml"]  # no temp file left


def test_unchanged_bytes_are_not_rewritten(folder: LocalFolderWriter) -> None:
    assert folder.write("fr/atom.xml", b"<feed/>")
    target = folder.root / "fr" / "atom.xml"
    old = target.stat()
    os.utime(target, ns=(old.st_atime_ns, old.st_mtime_ns - 10_000_000_000))
    before = target.stat()
    assert folder.write("fr/atom.xml", b"<feed/>") is False
    after = target.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_changed_bytes_replace_the_file_and_keep_its_mode(folder: LocalFolderWriter) -> None:
    folder.write("fr/atom.xml", b"<feed>1</feed>")
    target = folder.root / "fr" / "atom.xml"
    target.chmod(0o640)
    inode = target.stat().st_ino
    assert folder.write("fr/atom.xml", b"<feed>2</feed>") is True
    assert target.read_bytes() == b"<feed>2</feed>"
    assert target.stat().st_ino != inode  # a new file renamed over the old one
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("relpath", BAD_PATHS)
def test_escaping_paths_are_refused(folder: LocalFolderWriter, relpath: str) -> None:
    with pytest.raises(ValueError):
        folder.write(relpath, b"x")
    with pytest.raises(ValueError):
        folder.read(relpath)
    with pytest.raises(ValueError):
        MemoryFeedWriter().write(relpath, b"x")
    assert not (folder.root.parent / "x.xml").exists()


def test_symlink_out_of_the_root_is_refused(folder: LocalFolderWriter, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder.root.mkdir()
    (folder.root / "fr").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        folder.write("fr/rss.xml", b"x")
    assert list(outside.iterdir()) == []


def test_relpaths_are_normalized() -> None:
    assert normalize_relpath("./fr//rss.xml") == "fr/rss.xml"
    mem = MemoryFeedWriter()
    mem.write("./fr//rss.xml", b"a")
    assert mem.read("fr/rss.xml") == b"a"


def test_failed_replace_leaves_old_file_whole_and_no_temp(
    folder: LocalFolderWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder.write("ar/feed.json", b'{"old": true}')

    def no_space(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), src)

    monkeypatch.setattr(writer.os, "replace", no_space)
    with pytest.raises(OSError) as caught:
        folder.write("ar/feed.json", b'{"new": true}')
    assert caught.value.errno == errno.ENOSPC
    target = folder.root / "ar" / "feed.json"
    assert str(target) in str(caught.value)
    assert ".tmp" not in str(caught.value)
    assert target.read_bytes() == b'{"old": true}'
    assert files_under(folder.root) == ["ar/feed.json"]


def test_failed_write_of_data_removes_temp(
    folder: LocalFolderWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(writer.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match=r"rss\.xml"):
        folder.write("zh/rss.xml", b"<rss/>")
    assert files_under(folder.root) == []


def test_errors_keep_their_subclass(folder: LocalFolderWriter) -> None:
    folder.write("fr", b"a file where a folder should be")
    with pytest.raises(NotADirectoryError, match=r"rss\.xml"):
        folder.write("fr/rss.xml", b"x")
    assert folder.read("fr/rss.xml") is None
    (folder.root / "en").mkdir()
    with pytest.raises(IsADirectoryError):
        folder.write("en", b"x")


def test_list_is_sorted_filtered_and_hides_temp_files(folder: LocalFolderWriter) -> None:
    assert folder.list() == []  # no root yet
    for rel in ["zh/rss.xml", "ar/atom.xml", "ar/rss.xml", "index.html"]:
        folder.write(rel, b"x")
    (folder.root / "ar" / ".rss.xml.abc123_x.tmp").write_bytes(b"crash leftover")
    assert folder.list() == ["ar/atom.xml", "ar/rss.xml", "index.html", "zh/rss.xml"]
    assert folder.list("ar/") == ["ar/atom.xml", "ar/rss.xml"]


def test_memory_writer_has_the_same_semantics() -> None:
    mem = MemoryFeedWriter()
    assert mem.write("fr/rss.xml", b"a") is True
    assert mem.write("fr/rss.xml", b"a") is False
    assert mem.write("fr/rss.xml", b"b") is True
    assert mem.read("fr/rss.xml") == b"b"
    assert mem.read("fr/atom.xml") is None
    assert mem.writes == 2
    mem.write("en/rss.xml", b"c")
    assert mem.list() == ["en/rss.xml", "fr/rss.xml"]
    assert mem.list("fr/") == ["fr/rss.xml"]


def test_make_writer(make_instance: Callable[..., Path]) -> None:
    config = load_config(make_instance(targets=("fr",), engine="pseudo") / "config" / "syndicator.toml")
    made = make_writer(config)
    assert isinstance(made, LocalFolderWriter) and made.root == config.publish.feeds_dir
    with pytest.raises(ValueError, match="folder"):
        make_writer(replace(config, publish=replace(config.publish, target="ftp://x")))


def test_write_feeds_reports_changed_paths() -> None:
    mem = MemoryFeedWriter()
    files = {"rss.xml": b"r", "atom.xml": b"a", "feed.json": b"j"}
    assert write_feeds(mem, "fr", files) == ["fr/atom.xml", "fr/feed.json", "fr/rss.xml"]
    assert write_feeds(mem, "fr", files) == []
    assert write_feeds(mem, "fr", {**files, "rss.xml": b"r2"}) == ["fr/rss.xml"]
    with pytest.raises(ValueError):
        write_feeds(mem, "..", files)


def test_gzip_copies_are_checked_and_mended(folder: LocalFolderWriter) -> None:
    import gzip

    from syndicator.publish.precompress import copy_holds, write_gzip_copy

    data = b"<feed>" + b"entry " * 100 + b"</feed>"
    assert folder.write("fr/atom.xml", data)
    assert write_gzip_copy(folder, "fr/atom.xml", data, changed=True)
    assert copy_holds(folder, "fr/atom.xml", data)
    assert not write_gzip_copy(folder, "fr/atom.xml", data, changed=False)  # checked, left alone
    folder.write("fr/atom.xml.gz", gzip.compress(b"<feed>older</feed>"))  # a crash between file and copy
    assert not copy_holds(folder, "fr/atom.xml", data)
    assert write_gzip_copy(folder, "fr/atom.xml", data, changed=False)
    assert gzip.decompress(folder.read("fr/atom.xml.gz") or b"") == data
    assert not write_gzip_copy(folder, "fr/tiny.xml", b"<x/>")  # too small to be worth a copy
