"""The folder watcher (syndicator/watcher.py): files handed on once settled, once per state, with the folder
source's own rule for which names count; real inotify events through watchfiles, waits on events and
conditions rather than sleeps; and the service's watched folders following the config."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicator.config import load_config
from syndicator.service import CORRECTIONS, watched_folders
from syndicator.sources.folder import is_article_file, is_watched_file
from syndicator.translate.corrections import is_correction_file
from syndicator.watcher import Folder, FolderWatcher, Settler
from tests.support.service import wait_for


class Clock:
    """A clock the test moves by hand: settling is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_file_written_in_two_halves_is_handed_on_once_whole(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock)
    path = tmp_path / "story.md"
    whole = b"---\ntitle: Half and half\n---\n" + b"x" * 5000
    with path.open("wb") as fh:
        fh.write(whole[:2000])
        fh.flush()
        settler.seen(path)
        clock.now = 0.5
        assert settler.ready() == []  # not still for long enough
        fh.write(whole[2000:])  # the second half comes within the settle time
        fh.flush()
        clock.now = 0.9
        assert settler.ready() == []  # it changed: the wait starts again
        clock.now = 1.5
        assert settler.ready() == []
    clock.now = 2.0
    assert settler.ready() == [path]
    assert path.read_bytes() == whole
    clock.now = 10.0
    assert settler.ready() == []  # handed on once


def test_a_state_is_handed_on_once_and_a_removal_at_once(tmp_path: Path) -> None:
    clock = Clock()
    settler = Settler(1.0, clock=clock)
    path = tmp_path / "story.md"
    path.write_text("one", encoding="utf-8")
    settler.seen(path)
    clock.now = 1.0
    assert settler.ready() == [path]
    path.chmod(0o600)  # an event that changes nothing a poll reads
    settler.seen(path)
    clock.now = 3.0
    assert settler.ready() == []
    path.write_text("two, longer", encoding="utf-8")
    settler.seen(path)
    clock.now = 4.0
    assert settler.ready() == [path]
    path.unlink()
    settler.seen(path)
    assert settler.ready() == [path]  # nothing to wait for
    assert settler.waiting == 0


def test_zero_settle_hands_on_at_the_first_look(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text("x", encoding="utf-8")
    settler = Settler(0.0, clock=Clock())
    settler.seen(path)
    assert settler.ready() == [path]


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("story.md", True),
        ("story.MARKDOWN", True),
        ("page.html", True),
        ("item.json", True),
        (".story.md", False),  # hidden: an editor's or a copy tool's temp file
        (".story.md.swp", False),  # vim
        ("story.md~", False),  # emacs, gedit backups
        ("#story.md#", False),  # emacs autosave
        (".story.md.tmp", False),  # write-then-rename tools
        ("story.txt", False),
    ],
)
def test_names_the_watcher_and_the_poll_agree_on(tmp_path: Path, name: str, read: bool) -> None:
    assert is_article_file(tmp_path, tmp_path / name) is read
    assert is_article_file(tmp_path, tmp_path / "sub" / "story.md") is False  # not recursive


@pytest.mark.parametrize(
    ("relpath", "watched"),
    [
        ("story.md", True),
        ("images/ferry.png", True),  # a lead image: its article is read again
        ("images/2026/ferry", True),  # images are known by their bytes, not their names
        ("ferry.JPEG", True),  # an image beside the articles
        ("report.pdf", True),  # a PDF an article's body links, beside it
        ("notes.txt", False),  # beside the articles, neither an article nor an image
        ("images/.ferry.png.tmp", False),
        (".git/objects/ab", False),
        ("story.md~", False),
    ],
)
def test_what_a_folder_sources_watch_hands_on(tmp_path: Path, relpath: str, watched: bool) -> None:
    assert is_watched_file(tmp_path, tmp_path / relpath) is watched
    assert not is_watched_file(tmp_path / "articles", tmp_path / "elsewhere.png")


def test_correction_names(tmp_path: Path) -> None:
    assert is_correction_file(tmp_path, tmp_path / "fr" / "newsroom" / "story.md")
    assert is_correction_file(tmp_path, tmp_path / "fr" / "story.md")  # misplaced: read, then reported
    assert not is_correction_file(tmp_path, tmp_path / "fr" / "newsroom" / ".story.md.swp")
    assert not is_correction_file(tmp_path, tmp_path.parent / "story.md")


class Handed:
    """What the watcher handed on, with each file's bytes as they were when handed on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Path]]] = []
        self.contents: dict[Path, list[bytes | None]] = {}
        self.lock = threading.Lock()

    def __call__(self, key: str, paths: list[Path]) -> None:
        with self.lock:
            self.calls.append((key, paths))
            for p in paths:
                self.contents.setdefault(p, []).append(p.read_bytes() if p.exists() else None)

    def names(self) -> list[str]:
        with self.lock:
            return [p.name for _, paths in self.calls for p in paths]


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[Callable[..., tuple[FolderWatcher, Handed]]]:
    watchers: list[FolderWatcher] = []

    def start(folder: Path, settle: float = 1.0) -> tuple[FolderWatcher, Handed]:
        handed = Handed()
        watcher = FolderWatcher(handed)
        watcher.update([Folder("source:newsroom", folder, is_article_file, settle=settle)])
        watchers.append(watcher)
        return watcher, handed

    yield start
    for w in watchers:
        w.stop()


def _ready(watcher: FolderWatcher) -> None:
    thread = watcher.thread_of("source:newsroom")
    assert thread is not None
    wait_for(thread.watching.is_set, "the watch to start")


def test_a_copy_in_progress_is_read_once_whole(
    tmp_path: Path, watching: Callable[..., tuple[FolderWatcher, Handed]]
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    # A settle time well above the time the test needs to see the first event and write the rest.
    watcher, handed = watching(folder, settle=3.0)
    _ready(watcher)
    thread = watcher.thread_of("source:newsroom")
    assert thread is not None
    path = folder / "story.md"
    whole = b"---\ntitle: Slow copy\ndate: 2026-03-01\n---\n" + b"word " * 4000
    with path.open("wb") as fh:
        fh.write(whole[: len(whole) // 2])
        fh.flush()
        wait_for(lambda: thread.settler.waiting == 1, "the first half to be seen")
        fh.write(whole[len(whole) // 2 :])
    wait_for(lambda: handed.names() == ["story.md"], "the file to be handed on")
    assert handed.contents[path] == [whole]
    # Something else happens; the finished file is not handed on again meanwhile.
    (folder / "next.md").write_text("next", encoding="utf-8")
    wait_for(lambda: "next.md" in handed.names(), "the next file")
    assert handed.names() == ["story.md", "next.md"]


def test_what_the_watcher_hands_on(
    tmp_path: Path, watching: Callable[..., tuple[FolderWatcher, Handed]]
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    outside = tmp_path / "outbox"
    outside.mkdir()
    watcher, handed = watching(folder, settle=0.0)
    _ready(watcher)
    # Editors' droppings and subfolders are ignored, as the folder source ignores them.
    (folder / ".draft.md.swp").write_bytes(b"swap")
    (folder / "draft.md~").write_text("backup", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.md").write_text("deep", encoding="utf-8")
    # A rename into the folder (moved_to), the way careful tools deliver.
    (outside / "moved.md").write_text("moved", encoding="utf-8")
    os.replace(outside / "moved.md", folder / "moved.md")
    wait_for(lambda: "moved.md" in handed.names(), "the file renamed into the folder")
    # A rename inside the folder from a temp name.
    (folder / ".tmp-renamed.md").write_text("renamed", encoding="utf-8")
    os.replace(folder / ".tmp-renamed.md", folder / "renamed.md")
    wait_for(lambda: "renamed.md" in handed.names(), "the file renamed from a temp name")
    # A deletion is handed on too (the poll forgets the file; a correction's removal restores the machine's).
    (folder / "moved.md").unlink()
    wait_for(lambda: handed.names().count("moved.md") == 2, "the removal")
    assert handed.contents[folder / "moved.md"] == [b"moved", None]
    assert set(handed.names()) == {"moved.md", "renamed.md"}
    assert {key for key, _ in handed.calls} == {"source:newsroom"}


def test_a_folder_that_appears_later_and_one_replaced(
    tmp_path: Path, watching: Callable[..., tuple[FolderWatcher, Handed]]
) -> None:
    folder = tmp_path / "corrections-like"
    watcher, handed = watching(folder, settle=0.0)
    thread = watcher.thread_of("source:newsroom")
    assert thread is not None
    wait_for(thread.absent.is_set, "the watcher to find the folder missing")
    assert not thread.watching.is_set()
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "early.md").write_text("early", encoding="utf-8")
    staged.rename(folder)  # the folder arrives with a file already in it
    wait_for(lambda: "early.md" in handed.names(), "the file that came with the folder")
    wait_for(thread.watching.is_set, "the watch on the new folder")
    (folder / "later.md").write_text("later", encoding="utf-8")
    wait_for(lambda: "later.md" in handed.names(), "a file in the new folder")
    # Replaced: moved away, and a new folder of the same name put in its place (a deploy, a restore).
    folder.rename(tmp_path / "old")
    replacement = tmp_path / "replacement"
    replacement.mkdir()
    (replacement / "restored.md").write_text("restored", encoding="utf-8")
    replacement.rename(folder)
    wait_for(lambda: "restored.md" in handed.names(), "the file in the replacing folder")
    (folder / "after.md").write_text("after", encoding="utf-8")
    wait_for(lambda: "after.md" in handed.names(), "a file written into the replacing folder")


def test_update_follows_the_folders_and_stop_ends_the_threads(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    handed = Handed()
    watcher = FolderWatcher(handed)
    fa = Folder("source:a", a, is_article_file, settle=0.0)
    fb = Folder("source:b", b, is_article_file, settle=0.0)
    watcher.update([fa])
    first = watcher.thread_of("source:a")
    assert first is not None
    wait_for(first.watching.is_set, "a watched")
    watcher.update([fa, fb])
    assert watcher.thread_of("source:a") is first  # unchanged folders keep their watcher
    watcher.update([fb, dataclasses.replace(fa, settle=2.0)])  # a changed setting restarts that one
    assert not first.thread.is_alive()
    threads = [watcher.thread_of("source:a"), watcher.thread_of("source:b")]
    watcher.update([fb])
    assert watcher.thread_of("source:a") is None
    watcher.stop()
    assert watcher.folders == []
    assert not any(t is not None and t.thread.is_alive() for t in threads)


def test_the_service_watches_what_the_config_names(make_instance: Callable[..., Path]) -> None:
    root = make_instance(
        extra='\n[[source]]\nname = "wire"\nkind = "folder"\npath = "wire"\nwatch = false\n'
        '\n[[source]]\nname = "off"\nkind = "folder"\npath = "off"\nenabled = false\n'
    )
    (root / "wire").mkdir()
    (root / "off").mkdir()
    config = load_config(root / "config" / "syndicator.toml")
    folders = {f.key: f for f in watched_folders(config)}
    assert set(folders) == {"source:newsroom", CORRECTIONS}
    assert folders["source:newsroom"].path == (root / "articles").resolve()
    assert folders["source:newsroom"].settle == 1.0
    # Recursive: a lead image replaced in articles/images/ changes its article.
    assert folders["source:newsroom"].recursive and folders["source:newsroom"].accepts is is_watched_file
    assert folders[CORRECTIONS].recursive and folders[CORRECTIONS].accepts is is_correction_file
    quiet = load_config(root / "config" / "syndicator.toml", overrides={"run.watch": "false"})
    assert watched_folders(quiet) == []


def test_the_service_watcher_follows_reloads_and_stops(
    make_instance: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from syndicator.models import HUMAN
    from syndicator.pipeline import open_context
    from syndicator.service import Service
    from tests.support.service import write_article

    caplog.set_level(logging.INFO, logger="syndicator.service")
    root = make_instance(engine="pseudo", targets=("fr",))
    file = root / "config" / "syndicator.toml"
    ctx = open_context(load_config(file))
    service = Service(ctx)
    service.start()
    try:
        watcher = service.watcher
        assert watcher is not None
        assert {f.key for f in watcher.folders} == {"source:newsroom", CORRECTIONS}
        (root / "wire").mkdir()
        with file.open("a", encoding="utf-8") as fh:
            fh.write('\n[[source]]\nname = "wire"\nkind = "folder"\npath = "wire"\nevery = "1h"\n')
        assert service.reloader is not None and service.reloader.reload(["syndicator.toml"])
        assert {f.key for f in watcher.folders} == {"source:newsroom", "source:wire", CORRECTIONS}
        thread = watcher.thread_of("source:wire")
        assert thread is not None
        wait_for(thread.watching.is_set, "the new folder watched")
        write_article(root / "wire", "wire-1", "Wire story", "From the wire.")
        wait_for(lambda: "wire-1" in {a.key for a in ctx.store.articles()}, "the wire story picked up")
        # An editor's correction, in a corrections folder that did not exist when the service started.
        wait_for(lambda: not ctx.store.pending(), "the machine translations")
        (article,) = [a for a in ctx.store.articles() if a.key == "harbour-bridge"]
        corrections = root / "corrections" / "fr" / "newsroom"
        corrections.mkdir(parents=True)
        (corrections / "harbour-bridge.md").write_text(
            "---\ntitle: Le pont du port rouvre\n---\nLe pont du port a rouvert dimanche.\n", encoding="utf-8"
        )

        def reviewed() -> bool:
            tr = ctx.store.translations_for([article.id], "fr").get(article.id)
            return tr is not None and tr.engine == HUMAN

        # The watcher's word (a pass under way may apply the file before it has settled; either way, once).
        picked = "corrections: picked up fr/newsroom/harbour-bridge.md"
        wait_for(lambda: picked in caplog.text, "the correction picked up")
        wait_for(reviewed, "the correction applied")
        assert caplog.text.count(picked) == 1
        threads = [t for f in watcher.folders if (t := watcher.thread_of(f.key)) is not None]
    finally:
        assert service.stop()
        ctx.close()
    assert watcher.folders == []
    assert not any(t.thread.is_alive() for t in threads)


def test_a_watch_the_system_refuses_warns_once_and_polling_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """inotify's limits cannot be lowered for one test without disturbing the machine, so watchfiles is made to
    fail the way it does when fs.inotify.max_user_instances is used up."""
    import logging

    import watchfiles

    calls: list[int] = []

    def refused(*_args: object, **_kwargs: object) -> Iterator[set[tuple[object, str]]]:
        calls.append(1)
        raise OSError("OS file watch limit reached")

    monkeypatch.setattr(watchfiles, "watch", refused)
    monkeypatch.setattr("syndicator.watcher.RETRY", 0.2)
    caplog.set_level(logging.DEBUG, logger="syndicator.watcher")
    watcher = FolderWatcher(Handed())
    watcher.update([Folder("source:newsroom", tmp_path, is_article_file, settle=0.0)])
    try:
        wait_for(lambda: len(calls) >= 3, "the watch to be tried again")
    finally:
        watcher.stop()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # once, not at every retry
    message = warnings[0].getMessage()
    assert str(tmp_path) in message and "OS file watch limit reached" in message
    assert "next scheduled poll" in message and "max_user_watches" in message
    assert watcher.folders == []


def test_files_in_a_new_subfolder_of_a_recursive_folder_are_seen(tmp_path: Path) -> None:
    """`mkdir -p fr/newsroom && cp story.md fr/newsroom/`: the file is written before the kernel watches the new
    subfolder, so no event names it; the watcher looks inside new subfolders."""
    folder = tmp_path / "corrections"
    folder.mkdir()
    handed = Handed()
    watcher = FolderWatcher(handed)
    watcher.update([Folder(CORRECTIONS, folder, is_correction_file, recursive=True, settle=0.0)])
    try:
        thread = watcher.thread_of(CORRECTIONS)
        assert thread is not None
        wait_for(thread.watching.is_set, "the watch to start")
        for n in range(5):  # a race is lost only some of the time: several tries
            deep = folder / f"l{n}" / "newsroom"
            deep.mkdir(parents=True)
            (deep / "story.md").write_text("corrected", encoding="utf-8")
            wait_for(lambda deep=deep: deep / "story.md" in handed.contents, f"the file in {deep}")
    finally:
        watcher.stop()
