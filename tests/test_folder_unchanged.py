"""A drop-folder poll reads and writes only what changed: files whose size, mtime and inode (and the settings
that read them) are those remembered when their article was stored are skipped without a parse or a write."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from syndicator.config import load_config
from syndicator.models import CycleReport
from syndicator.pipeline import Context, open_context
from syndicator.pipeline.collect import collect
from syndicator.sources import folder
from tests.support.service import write_article


@pytest.fixture
def ctx(make_instance: Callable[..., Path]) -> Iterator[Context]:
    root = make_instance(engine="pseudo", targets=("fr",))
    context = open_context(load_config(root / "config" / "syndicator.toml"))
    yield context
    context.close()


class Counted:
    """Write transactions of a store (BEGIN IMMEDIATE on SQLite) and files the folder source parsed."""

    def __init__(self, ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes = 0
        self.parsed: list[str] = []
        parse = folder.parse_article

        def counting_parse(path: Path, *args: object) -> object:
            self.parsed.append(path.name)
            return parse(path, *args)  # type: ignore[arg-type]

        def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
            self.writes += statement.startswith("BEGIN IMMEDIATE")

        monkeypatch.setattr(folder, "parse_article", counting_parse)
        event.listen(ctx.store.engine, "before_cursor_execute", count)

    def poll(self, ctx: Context) -> CycleReport:
        self.writes, self.parsed = 0, []
        report = CycleReport()
        collect(ctx, report, force=True)
        return report


def articles(ctx: Context) -> Path:
    return Path(ctx.config.sources[0].options["path"])


def test_an_unchanged_folder_is_neither_read_nor_written(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(ctx, monkeypatch)
    first = counted.poll(ctx)
    assert first.new == 3 and len(counted.parsed) == 3
    again = counted.poll(ctx)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert counted.parsed == []  # no file read
    assert counted.writes == 1  # the poll's own record, not one per file

    # An edit (a new mtime, here also a new size and inode: written by rename) is read and stored.
    write_article(articles(ctx), "harbour-news", "Harbour news", "A new article.")
    report = counted.poll(ctx)
    assert (report.new, report.unchanged) == (1, 3) and counted.parsed == ["harbour-news.md"]
    # `touch` alone: read again, and the store finds the same content.
    path = articles(ctx) / "harbour-news.md"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    report = counted.poll(ctx)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 4) and counted.parsed == [
        "harbour-news.md"
    ]


def test_a_replaced_file_with_the_same_size_and_mtime_is_read_again(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(ctx, monkeypatch)
    path = write_article(articles(ctx), "notice", "Notice", "Version A.")
    counted.poll(ctx)
    st = path.stat()
    replacement = path.with_name(".notice.tmp")
    replacement.write_text(
        path.read_text(encoding="utf-8").replace("Version A.", "Version B."), encoding="utf-8"
    )
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: only the inode differs
    os.replace(replacement, path)
    report = counted.poll(ctx)
    assert report.updated == 1 and counted.parsed == ["notice.md"]


def test_other_reading_settings_read_every_file_again(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(ctx, monkeypatch)
    counted.poll(ctx)
    source = dataclasses.replace(ctx.config.sources[0], language="de")
    ctx.config = dataclasses.replace(ctx.config, sources=(source,))
    counted.poll(ctx)
    assert len(counted.parsed) == 3  # a file without its own language now reads as German


def test_an_unchanged_file_still_holds_its_id(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipped files still take part in the duplicate check: a new file cannot take an unchanged one's id."""
    counted = Counted(ctx, monkeypatch)
    write_article(articles(ctx), "a-first", "First", "The original.")
    counted.poll(ctx)
    (articles(ctx) / "b-second.md").write_text(
        "---\ntitle: Second\ndate: 2026-03-02T08:00:00+08:00\nid: a-first\n---\nA copy.\n", encoding="utf-8"
    )
    report = counted.poll(ctx)
    assert [p.message for p in report.problems] == [
        "id 'a-first' is also used by " + str(articles(ctx) / "a-first.md")
    ]
    assert report.updated == 0


def test_removed_files_are_forgotten(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = Counted(ctx, monkeypatch)
    path = write_article(articles(ctx), "short-lived", "Short", "Gone soon.")
    counted.poll(ctx)
    assert str(path) in ctx.store.page_states(ctx.config.sources[0].name)
    path.unlink()
    counted.poll(ctx)
    assert str(path) not in ctx.store.page_states(ctx.config.sources[0].name)
    counted.poll(ctx)
    assert counted.writes == 1  # and nothing left to forget


def test_a_key_that_is_not_read_is_reported_once_not_read_at_every_poll(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posts brought over from a static-site generator carry keys Syndicator does not read (`weight`, `slug`):
    reported when the file is read, and the file is not read again until it changes (editing it is the fix)."""
    (articles(ctx) / "hugo-post.md").write_text(
        "---\ntitle: From Hugo\ndate: 2026-03-01T10:00:00Z\nweight: 10\nslug: from-hugo\n---\nMoved over.\n",
        encoding="utf-8",
    )
    counted = Counted(ctx, monkeypatch)
    first = counted.poll(ctx)
    assert first.new == 4 and any("'weight' is not read" in p.message for p in first.problems)
    again = counted.poll(ctx)
    assert counted.parsed == [] and again.unchanged == 4 and not again.problems
