"""Bounded, isolated inputs: odd files, pages and servers are reported by name and never stop their source.

Regression tests for issue 10's "Seen" items, with real files (FIFOs, symlinks, /dev/zero), a real SQLite
store and real HTTP servers on 127.0.0.1 (tests/support/upstream.py, including a slow-drip server).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, event, text

from syndicator.cli import main
from syndicator.config import SourceConfig, load_config
from syndicator.errors import StoreError
from syndicator.models import ArticleInput, CycleReport, Problem
from syndicator.pipeline import Context, collect
from syndicator.sources import SourceContext, make_source
from syndicator.store.refusals import is_item_fault, refusal
from tests.support.instances import Clock, open_instance, source_toml
from tests.support.upstream import Reply, Upstream, fixture

REPO = Path(__file__).resolve().parent.parent
FOLDER = Path(__file__).parent / "data" / "folder"
GOOD = (FOLDER / "good.md").read_bytes()
BOM = b"\xef\xbb\xbf"
OUT_OF_RANGE = "0001-01-01T00:00:00+14:00"  # year 0 in UTC: what the store cannot hold


def _markdown(title: str, date: str = "2026-03-01T10:00:00Z", body: str = "Body text.", **more: str) -> str:
    extra = "".join(f"{k}: {v}\n" for k, v in more.items())
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n{body}\n"


def _poll(folder: Path, max_body_bytes: int = 1_000_000, **options: object) -> list[ArticleInput | Problem]:
    """Poll a folder source in a thread: a read that blocks (a FIFO) fails the test instead of hanging it."""
    cfg = SourceConfig(
        name="drop",
        kind="folder",
        every=timedelta(minutes=5),
        language="en",
        options={"path": folder, **options},
        max_body_bytes=max_body_bytes,
    )
    out: list[ArticleInput | Problem] = []
    thread = threading.Thread(
        target=lambda: out.extend(make_source(cfg, SourceContext(timezone=ZoneInfo("UTC"))).poll()),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "polling the folder blocked"
    return out


def _by_name(items: list[ArticleInput | Problem]) -> dict[str, ArticleInput | Problem]:
    return {Path(i.origin).name: i for i in items}


def _problem(items: list[ArticleInput | Problem], name: str) -> str:
    item = _by_name(items)[name]
    assert isinstance(item, Problem), item
    return item.message


# -- files that are not files ---------------------------------------------------------------------------------


def test_a_fifo_is_reported_and_never_opened_for_reading(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_bytes(GOOD)
    os.mkfifo(tmp_path / "x.md")  # no writer: a plain open() would block forever
    items = _poll(tmp_path)
    assert "named pipe (FIFO), not a regular file" in _problem(items, "x.md")
    assert isinstance(_by_name(items)["good.md"], ArticleInput)


@pytest.mark.parametrize("symlinks", ["inside", "anywhere"])
def test_a_link_to_dev_zero_is_refused_without_reading(tmp_path: Path, symlinks: str) -> None:
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    (tmp_path / "good.md").write_bytes(GOOD)
    items = _poll(tmp_path, symlinks=symlinks)
    message = _problem(items, "zero.md")
    expected = "outside the folder" if symlinks == "inside" else "a character device, not a regular file"
    assert expected in message
    assert isinstance(_by_name(items)["good.md"], ArticleInput)


def test_a_directory_with_an_article_name_is_reported(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    assert "a directory, not a regular file" in _problem(_poll(tmp_path), "folder.md")


# -- symbolic links -------------------------------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A drop folder with a link to a file inside it and one to an article outside it (e.g. /etc/…)."""
    folder = tmp_path / "drop"
    folder.mkdir()
    (tmp_path / "secret.md").write_text(_markdown("Outside the folder"), encoding="utf-8")
    (folder / "real.md").write_text(_markdown("Inside the folder"), encoding="utf-8")
    (folder / "outside.md").symlink_to(tmp_path / "secret.md")
    (folder / "alias.md").symlink_to("real.md")
    return folder


def test_links_are_followed_only_inside_the_folder_by_default(linked: Path) -> None:
    items = _by_name(_poll(linked))
    assert isinstance(items["outside.md"], Problem)
    assert (
        f"a symbolic link to {linked.parent / 'secret.md'}, outside the folder" in items["outside.md"].message
    )
    assert 'symlinks = "anywhere"' in items["outside.md"].message  # what to do, if it is wanted
    alias = items["alias.md"]
    assert isinstance(alias, ArticleInput) and alias.title == "Inside the folder"


def test_symlinks_anywhere_follows_links_out_and_never_follows_none(linked: Path) -> None:
    anywhere = _by_name(_poll(linked, symlinks="anywhere"))
    assert isinstance(anywhere["outside.md"], ArticleInput) and isinstance(anywhere["alias.md"], ArticleInput)
    never = _by_name(_poll(linked, symlinks="never"))
    assert "is a symbolic link; not read" in never["outside.md"].message  # type: ignore[union-attr]
    assert isinstance(never["alias.md"], Problem) and isinstance(never["real.md"], ArticleInput)


def test_a_linked_folder_is_still_the_folder(tmp_path: Path) -> None:
    """The configured path may itself be a symlink: links into its target are inside."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.md").write_text(_markdown("A"), encoding="utf-8")
    (real / "b.md").symlink_to(real / "a.md")
    (tmp_path / "drop").symlink_to(real)
    items = _by_name(_poll(tmp_path / "drop"))
    assert all(isinstance(i, ArticleInput) for i in items.values()), items


# -- sizes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "limit", "expected"),
    [
        (
            "x" * 5000,
            {"max_file_bytes": 2048},
            ["is 5,0", "more than the limit of 2,048; not read", "max_file_bytes"],
        ),
        ("word " * 1000, {"max_body_bytes": 2048}, ["the article body is 5,0", "limit of 2,048; not stored"]),
    ],
    ids=["file", "body"],
)
def test_oversized_input_is_reported_not_cut(
    tmp_path: Path, body: str, limit: dict[str, int], expected: list[str]
) -> None:
    (tmp_path / "big.md").write_text(_markdown("Big", body=body), encoding="utf-8")
    (tmp_path / "good.md").write_bytes(GOOD)
    items = _poll(tmp_path, **limit)
    message = _problem(items, "big.md")
    assert all(part in message for part in expected), message
    assert isinstance(_by_name(items)["good.md"], ArticleInput)


def test_oversized_fields_are_reported(tmp_path: Path) -> None:
    (tmp_path / "title.md").write_text(_markdown("T" * 5000), encoding="utf-8")
    tags = "[" + ", ".join(f"t{i}" for i in range(500)) + "]"
    (tmp_path / "tags.md").write_text(_markdown("Tags", tags=tags), encoding="utf-8")
    items = _poll(tmp_path)
    assert "'title' is 5,000 characters long, more than 1,000" in _problem(items, "title.md")
    assert "at most 100 tags" in _problem(items, "tags.md")


# -- names and encodings --------------------------------------------------------------------------------------


def test_a_file_name_with_a_newline_never_becomes_an_id(tmp_path: Path) -> None:
    (tmp_path / "story\n.md").write_text(_markdown("Story"), encoding="utf-8")
    (problem,) = _poll(tmp_path)
    assert isinstance(problem, Problem)
    assert "\n" not in problem.origin and problem.origin.endswith("story\\n.md")  # escaped: one log line
    assert (
        "the file name gives the 'id' 'story\\n'" in problem.message and "rename the file" in problem.message
    )


def test_an_undecodable_file_name_is_reported_and_storable(tmp_path: Path) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.md")).write_text(_markdown("Cafe"), encoding="utf-8")
    (problem,) = _poll(tmp_path)
    assert isinstance(problem, Problem) and problem.origin.endswith("caf\\udce9.md")
    problem.origin.encode("utf-8")  # no lone surrogate left: it can be logged and stored


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.md", BOM + _markdown("With a BOM").encode()),
        ("bom.json", BOM + b'{"title": "With a BOM", "date": "2026-03-01T10:00:00Z", "body": "Text."}'),
        ("bom.html", BOM + (FOLDER / "saved-page.html").read_bytes()),
    ],
)
def test_a_utf8_bom_is_tolerated(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    (article,) = _poll(tmp_path)
    assert isinstance(article, ArticleInput), article
    assert article.title in ("With a BOM", "Harbour bridge reopens")


def test_config_side_files_tolerate_a_bom(make_instance: Callable[..., Path]) -> None:
    root = make_instance()
    (root / "config" / "glossary.toml").write_bytes(BOM + b'keep = ["OHA"]\n')
    (root / "config" / "partners.toml").write_bytes(BOM + b"# no partners yet\n")
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "check"]) == 0


def test_no_validation_regex_is_anchored_with_dollar() -> None:
    """`$` also matches before a trailing newline: validation patterns end with \\Z (the class of the
    newline-in-an-id bug). Text-matching patterns that mean "at the end of this text" may keep `$`."""
    anchored = re.compile(r"""re\.compile\(\s*r?["']\^[^"']*\$["']""")
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted((REPO / "syndicator").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if anchored.search(line)
    ]
    assert not offenders


# -- the poll loop: one item's store failure is that item's -------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _collect(ctx: Context) -> CycleReport:
    report = CycleReport()
    collect(ctx, report, force=True)
    return report


def _logged(caplog: pytest.LogCaptureFixture, problem: Problem) -> list[str]:
    """Levels of the log lines that report this problem."""
    line = f"{problem.source}: {problem.origin}: {problem.message}"
    return [r.levelname for r in caplog.records if r.getMessage() == line]


def test_data_the_store_cannot_hold_is_one_problem_each_and_the_rest_are_stored(
    make_instance: Callable[..., Path], clock: Clock, caplog: pytest.LogCaptureFixture, store_url: str
) -> None:
    ctx = open_instance(make_instance, f'\n[store]\nurl = "{store_url}"\n', clock)  # SQLite and PostgreSQL
    articles = ctx.config.sources[0].options["path"]
    for name in os.listdir(articles):
        os.unlink(articles / name)
    (articles / "a.md").write_text(_markdown("First"), encoding="utf-8")
    (articles / "b.md").write_text(_markdown("Far past", date=OUT_OF_RANGE), encoding="utf-8")
    (articles / "s.json").write_text(
        '{"title": "Half \\ud800", "date": "2026-03-01T10:00:00Z"}', encoding="utf-8"
    )
    (articles / "z.md").write_text(_markdown("Last"), encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger="syndicator.pipeline"):
        report = _collect(ctx)
    # A lone surrogate never reaches the store: validation on entry drops what is not text (the store's own
    # refusals are told from its failures in test_item_faults_are_told_from_store_faults).
    assert sorted(a.title for a in ctx.store.articles()) == ["First", "Half", "Last"]
    problems = {Path(p.origin).name: p.message for p in report.problems}
    assert set(problems) == {"b.md"}
    assert "out of range" in problems["b.md"]
    state = ctx.store.source_states()["newsroom"]
    assert state["failures"] == 0 and state["last_error"] == ""  # the source is healthy
    assert all(_logged(caplog, p) == ["WARNING"] for p in report.problems)

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="syndicator.pipeline"):
        again = _collect(ctx)
    assert again.problems == report.problems  # still reported (status shows them) but logged once
    assert all(_logged(caplog, p) == ["DEBUG"] for p in again.problems)
    ctx.close()


def test_a_store_that_refuses_writes_is_not_taken_for_bad_items(
    make_instance: Callable[..., Path], clock: Clock
) -> None:
    """Only an item's own faults are isolated: a store that cannot write stops the poll with its error,
    never turns into one problem per item and a source that looks healthy."""
    ctx = open_instance(make_instance, "", clock)

    @event.listens_for(ctx.store.engine, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    ctx.store.engine.dispose()
    with pytest.raises(StoreError, match="readonly database"):
        _collect(ctx)
    event.remove(ctx.store.engine, "connect", _read_only)
    ctx.store.engine.dispose()
    assert ctx.store.article_count() == 0
    ctx.close()


def _raised(url: str, write: Callable[[Any], object]) -> BaseException:
    """What a real database raises for `write`, in a table t(x) whose x is unique, short and holds 'taken'."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS t"))
            conn.execute(text("CREATE TABLE t (x VARCHAR(10) UNIQUE)"))
            conn.execute(text("INSERT INTO t VALUES ('taken')"))
        try:
            with engine.begin() as conn:
                write(conn)
        except Exception as exc:
            return exc
        raise AssertionError("the write went through")
    finally:
        engine.dispose()


def test_item_faults_are_told_from_store_faults(store_url: str) -> None:
    postgres = store_url.startswith("postgresql")

    def read_only(conn: Any) -> None:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY" if postgres else "PRAGMA query_only = ON")
        conn.execute(text("INSERT INTO t VALUES ('x')"))

    assert not is_item_fault(_raised(store_url, read_only))  # the store refuses every write: stop the poll
    assert not is_item_fault(OSError(28, "No space left on device"))
    taken = _raised(store_url, lambda conn: conn.execute(text("INSERT INTO t VALUES ('taken')")))
    assert is_item_fault(taken)
    assert refusal(taken).startswith("the database refused it: ")
    assert "INSERT" not in refusal(taken) and "taken" not in refusal(taken)  # no SQL, no values
    if postgres:  # SQLite does not enforce lengths
        too_long = _raised(
            store_url, lambda conn: conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": "y" * 11})
        )
        assert is_item_fault(too_long) and "too long" in refusal(too_long)
    assert is_item_fault(OverflowError("date value out of range")) and refusal(OverflowError()) == ""


def test_a_web_page_with_an_out_of_range_date_is_one_problem(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    page = fixture("harbour-bridge.html").body.replace(b"2026-03-01T09:30:00+08:00", OUT_OF_RANGE.encode())
    upstream.set("/news/", fixture("listing.html"))
    upstream.set("/news/harbour-bridge.html?utm_campaign=home", Reply(body=page, content_type="text/html"))
    upstream.set("/news/library-hours.html", fixture("library-hours.html"))
    ctx = open_instance(make_instance, source_toml("site", "web", upstream.url("/news/")), clock)
    report = _collect(ctx)
    assert "Library extends its hours" in {a.title for a in ctx.store.articles() if a.source == "site"}
    (problem,) = [p for p in report.problems if p.source == "site"]
    assert problem.origin == upstream.url("/news/harbour-bridge.html?utm_campaign=home")
    assert "out of range" in problem.message
    assert ctx.store.source_states()["site"]["failures"] == 0
    ctx.close()


def test_an_odd_feed_entry_is_one_problem(
    make_instance: Callable[..., Path], upstream: Upstream, clock: Clock
) -> None:
    feed = fixture("feed.xml", base=upstream.base).body
    odd = b"<item><title>" + b"T" * 3000 + b"</title><guid>odd</guid><link>" + b"x" * 5000 + b"</link></item>"
    upstream.set("/feed.xml", Reply(body=feed.replace(b"<item>", odd + b"<item>", 1)))
    ctx = open_instance(make_instance, source_toml("wire", "feed", upstream.url("/feed.xml")), clock)
    report = _collect(ctx)
    (problem,) = [p for p in report.problems if p.source == "wire"]
    assert (
        problem.origin == f"{upstream.url('/feed.xml')} entry 1"
        and "'url' is 5,0" in problem.message
        and "more than 2,000" in problem.message
    )
    assert len([a for a in ctx.store.articles() if a.source == "wire"]) >= 2
    ctx.close()


# -- slow servers ---------------------------------------------------------------------------------------------


def test_a_dripping_feed_is_cut_off_at_the_deadline_and_the_run_goes_on(
    make_instance: Callable[..., Path], upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    body = fixture("feed.xml", base=upstream.base).body
    # One byte every 0.2 s: each read arrives long before any read timeout; the whole feed would take hours.
    upstream.set("/drip.xml", Reply(body=body, drip=0.2))
    root = make_instance(
        engine="pseudo", targets=("fr",), extra=source_toml("drip", "feed", upstream.url("/drip.xml"))
    )
    config = str(root / "config" / "syndicator.toml")
    assert main(["-q", "--config", config, "--set", "http.deadline=2", "--set", "http.read_timeout=30",
                 "run", "--once"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"{upstream.url('/drip.xml')}: no complete answer within http.deadline (2s)" in out
    assert len(upstream.hits("/drip.xml")) == 1  # the deadline covers retries: none was started
    assert upstream.sent["/drip.xml"] < len(body)  # cut off, not waited out
    assert (root / "feeds" / "en" / "rss.xml").exists()  # the drop folder was published meanwhile


def test_source_settings_reach_the_sources(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    config_file = root / "config" / "syndicator.toml"
    extra = 'max_body_bytes = 4096\nmax_file_bytes = 2048\nsymlinks = "never"\n'  # the [[source]] is last
    config_file.write_text(config_file.read_text(encoding="utf-8") + extra, encoding="utf-8")
    (source,) = load_config(config_file).sources
    assert source.max_body_bytes == 4096
    assert (source.options["max_file_bytes"], source.options["symlinks"]) == (2048, "never")
