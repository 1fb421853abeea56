"""Operations from the command line: init, JSON logs, progress lines, status and the status page."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree, html

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.logs import JsonFormatter
from syndicator.progress import progress
from syndicator.serve.statuspage import render_status_page
from syndicator.status import collect_status
from tests.support.service import REPO


def test_init_scaffolds_a_working_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "newsroom"
    assert main(["init", str(root)]) == 0
    for name in ("articles", "models", "feeds", "data"):
        assert (root / name).is_dir() and not any((root / name).iterdir())
    assert (root / "locales" / "fr" / "LC_MESSAGES" / "syndicator.po").read_bytes() == (
        REPO / "locales" / "fr" / "LC_MESSAGES" / "syndicator.po"
    ).read_bytes()
    config = root / "config" / "syndicator.toml"
    assert "# " in config.read_text(encoding="utf-8")  # commented for the admin
    assert main(["--config", str(config), "check"]) == 0
    # It runs as is (with the pseudo engine, since no model is installed here).
    (root / "articles" / "hello.md").write_text("---\ntitle: Hello\ndate: 2026-03-01\n---\nHello there.\n")
    assert main(["-q", "--config", str(config), "--set", "translation.engine=pseudo", "run", "--once"]) == 0
    assert (root / "feeds" / "fr" / "rss.xml").is_file()
    # Never over an existing instance.
    capsys.readouterr()
    assert main(["init", str(root)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_json_log_lines(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    result = subprocess.run(
        [sys.executable, "-m", "syndicator", "--log-format", "json", "--config",
         str(root / "config" / "syndicator.toml"), "run", "--once"],
        capture_output=True, text=True, cwd=root, check=True,
    )  # fmt: skip
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["logger"] == "syndicator.pipeline.poll" and "new article" in r["message"] for r in records)


def test_json_formatter_extras_and_tracebacks() -> None:
    record = logging.LogRecord("syndicator.x", logging.ERROR, __file__, 1, "failed %s", ("fr",), None)
    record.language = "fr"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    out = json.loads(JsonFormatter().format(record))
    assert out["message"] == "failed fr" and out["language"] == "fr" and out["level"] == "ERROR"
    assert "ValueError: boom" in out["exception"]


def test_progress_logs_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="syndicator.progress")
    assert [x * 2 for x in progress([1, 2, 3], "doubling", log_every=0.0)] == [2, 4, 6]
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "doubling: started (3 to do)"
    assert "doubling: 3/3 (100%) done" in " ".join(messages)
    assert messages[-1].startswith("doubling: finished, 3/3 (100%)")
    with progress(10, "counting") as bar:
        bar.update(4)
    assert bar.done == 4


def test_status_json_and_page(make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = make_instance(engine="pseudo", targets=("fr", "de"))
    config = root / "config" / "syndicator.toml"
    assert main(["-q", "--config", str(config), "run", "--once"]) == 0
    capsys.readouterr()
    assert main(["-q", "--config", str(config), "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["partners_stopped"] == [] and data["reload_error"] is None and data["models_missing"] == []
    fr = next(row for row in data["languages"] if row["language"] == "fr")
    assert fr["backlog"] == 0 and fr["done"] == 3 and fr["last_publish"]
    assert main(["-q", "--config", str(config), "status"]) == 0
    text = capsys.readouterr().out
    assert "fr: 3 done, 0 pending (backlog)" in text and "last publish" in text

    page = render_status_page(collect_status(load_config(config), history=True))
    doc = html.fromstring(page)
    charts = doc.findall(".//{http://www.w3.org/2000/svg}svg") or doc.findall(".//svg")
    assert len(charts) == 3
    assert "Articles per day" in page.decode() and "Backlog" in page.decode()
    # The charts are well-formed SVG with one line (or point) per language.
    svg = etree.fromstring(page.decode().split("Translations per day</figcaption>")[1].split("</figure>")[0])
    assert (
        len(svg.findall("{http://www.w3.org/2000/svg}polyline"))
        + len(svg.findall("{http://www.w3.org/2000/svg}circle"))
        == 2
    )  # fr and de


def _finished_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# What data/config-in-force.json may hold when the file on disk is broken; only a live service's valid record
# lets `status` show more than the configuration error.
IN_FORCE_CASES = {
    "no record": (None, False),
    "a live service": ({}, True),
    "a service that died": ({"pid": "dead"}, False),
    "an unreadable record": ("{not json", False),
    "a record that no longer validates": ({"text": "[site]\n"}, False),
    "a record missing its text": ({"text": None}, False),
}


@pytest.mark.parametrize("case", IN_FORCE_CASES, ids=str)
def test_status_with_a_broken_file_reads_the_config_in_force(
    case: str, make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from syndicator.config import IN_FORCE_FILE, record_config_in_force

    change, shows_status = IN_FORCE_CASES[case]
    root = make_instance(engine="pseudo", targets=("fr",))
    file = root / "config" / "syndicator.toml"
    assert main(["-q", "--config", str(file), "run", "--once"]) == 0
    record_config_in_force(load_config(file), {})  # as `syndicator run` does: this test process is its pid
    where = root / IN_FORCE_FILE
    if change is None:
        where.unlink()
    elif isinstance(change, str):
        where.write_text(change, encoding="utf-8")
    elif change:
        record = json.loads(where.read_text(encoding="utf-8"))
        record.update({k: _finished_pid() if v == "dead" else v for k, v in change.items()})
        where.write_text(json.dumps(record), encoding="utf-8")
    file.write_text(file.read_text(encoding="utf-8") + "\n[publish]\nmax_entrys = 20\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(file), "status"]) == 2
    shown = capsys.readouterr()
    assert "publish.max_entrys" in shown.err and "did you mean 'max_entries'" in shown.err
    if shows_status:
        first = shown.out.splitlines()[0]
        assert first.startswith("CONFIG FILE ON DISK IS INVALID") and "fr: 3 done" in shown.out
        assert "  " + str(file) + ":" in shown.out  # file, line, key and hint under it
    else:
        assert shown.out == ""


# Every write of the two records beside the store, and the temp file a kill between mkstemp and the rename
# leaves: the next write of the same record removes it.
RECORD_WRITES = {
    "config in force, recorded": ("config-in-force", lambda root, config: _record(config)),
    "config in force, forgotten": ("config-in-force", lambda root, config: _forget(root)),
    "reload error, saved": ("reload-error", lambda root, config: _reject(root, {"time": "", "error": "x"})),
    "reload error, cleared": ("reload-error", lambda root, config: _reject(root, None)),
}


def _record(config: object) -> None:
    from syndicator.config import record_config_in_force

    record_config_in_force(config, {})  # type: ignore[arg-type]


def _forget(root: Path) -> None:
    from syndicator.config import forget_config_in_force

    forget_config_in_force(root)


def _reject(root: Path, record: dict[str, str] | None) -> None:
    from syndicator.config import save_reload_error

    save_reload_error(root, record)


@pytest.mark.parametrize("case", RECORD_WRITES, ids=str)
def test_a_temp_file_left_by_a_killed_writer_is_removed_by_the_next_write(
    case: str, make_instance: Callable[..., Path]
) -> None:
    stem, write = RECORD_WRITES[case]
    root = make_instance(engine="pseudo", targets=("fr",))
    config = load_config(root / "config" / "syndicator.toml")
    data = root / "data"
    data.mkdir(exist_ok=True)
    leftover = data / f".{stem}.k1ll3d.tmp"
    leftover.write_text('{"half": ', encoding="utf-8")
    other = data / ".syndicator.db.k1ll3d.tmp"  # not this record's: left alone
    other.write_text("", encoding="utf-8")
    write(root, config)
    assert not leftover.exists() and other.exists()
    assert not [p.name for p in data.glob(f".{stem}.*")]
