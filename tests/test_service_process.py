"""`syndicator run` as a real process: config edits while it runs, and SIGTERM within run.stop_timeout."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.status import collect_status
from tests.support.edits import edit_file
from tests.support.service import ServiceProcess, wait_for, write_article


def _status(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "status", "--json"]) == 0
    data: dict = json.loads(capsys.readouterr().out)  # type: ignore[type-arg]
    return data


def _entries(root: Path, lang: str) -> int:
    path = root / "feeds" / lang / "atom.xml"
    return len(feedparser.parse(path.read_bytes()).entries) if path.exists() else -1


def _negotiated(base: str, language: str) -> str:
    """Where the server sends a reader who prefers `language` asking for /feeds/feed."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", "/feeds/feed", headers={"Accept-Language": language})
        response = conn.getresponse()
        response.read()
        return response.getheader("Location") or ""
    finally:
        conn.close()


def test_config_edits_while_running(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    file = root / "config" / "syndicator.toml"
    (root / "wire").mkdir()
    write_article(root / "wire", "wire-1", "Wire story", "From the wire.")
    with ServiceProcess(root) as service:
        wait_for(lambda: _entries(root, "fr") == 3, "the first publish")
        assert _status(root, capsys)["sources"][0]["scheduled"] == "every 5m, jitter 30s"

        # Valid: a new language and a new source, a changed interval.
        edit_file(file, 'targets = ["fr"]', 'targets = ["fr", "de"]')
        edit_file(file, 'every = "5m"', 'every = "2m"')
        with file.open("a", encoding="utf-8") as fh:
            fh.write('\n[[source]]\nname = "wire"\nkind = "folder"\npath = "wire"\nevery = "1m"\n')
        wait_for(lambda: _entries(root, "de") == 4, "the new language backfilled, the new source published")
        status = _status(root, capsys)
        assert {s["name"]: s["scheduled"] for s in status["sources"]} == {
            "newsroom": "every 2m, jitter 12s",
            "wire": "every 1m, jitter 6s",
        }
        assert status["reload_error"] is None
        assert _entries(root, "fr") == 4
        # The built-in server knows the new language too: it negotiates readers into it.
        url = re.search(r"serving \S+ at (http://[\d.]+:\d+)", service.log())
        assert url is not None, service.log()
        wait_for(lambda: _negotiated(url.group(1), "de") == "/feeds/de/rss.xml", "the server to offer de")

        # Invalid: an unknown language. Rejected with file, line, key and hint; the old config keeps running.
        edit_file(file, 'targets = ["fr", "de"]', 'targets = ["fr", "de", "xx"]')
        wait_for(lambda: "config edit rejected" in service.log(), "the rejection in the log")
        line = next(ln for ln in service.log().splitlines() if "config edit rejected" in ln)
        assert "syndicator.toml:" in line and "languages.targets" in line and "xx" in line
        capsys.readouterr()
        assert main(["--config", str(file), "status"]) == 2  # the file on disk is broken...
        err = capsys.readouterr().err
        assert (
            "LAST CONFIG EDIT REJECTED" in err and "languages.targets" in err
        )  # ...the service kept running

        # A second config file (glossary, partners…) in config/ is watched too: a valid reload, nothing lost.
        edit_file(file, ', "xx"]', "]")
        wait_for(lambda: _status(root, capsys)["reload_error"] is None, "the fixed file to clear the error")
        (root / "config" / "glossary.toml").write_text("# terms\n", encoding="utf-8")
        wait_for(lambda: "glossary.toml changed" in service.log(), "a reload for the other config file")
        # An invalid partners file is rejected the same way, naming its own file, line and key.
        partners = root / "config" / "partners.toml"
        partners.write_text('[[partner]]\nname = "embassy"\ntoken_sha256 = "nope"\n', encoding="utf-8")
        wait_for(
            lambda: (_status(root, capsys)["reload_error"] or {}).get("problems"), "the partners rejection"
        )
        problem = _status(root, capsys)["reload_error"]["problems"][0]
        assert problem["file"].endswith("partners.toml") and problem["line"] == 3
        assert problem["key"] == "partner[0].token_sha256" and "partners add" in problem["hint"]
        partners.unlink()
        wait_for(lambda: _status(root, capsys)["reload_error"] is None, "the partners error to clear")

        # Removing a source stops its polls; the articles it brought stay published.
        text = file.read_text(encoding="utf-8")
        file.write_text(text.split('[[source]]\nname = "wire"')[0], encoding="utf-8")
        wait_for(lambda: "source wire: stopped" in service.log(), "the removed source to stop")
        assert [s["name"] for s in _status(root, capsys)["sources"]] == ["newsroom"]
        assert service.terminate() == 0
    assert "Traceback" not in service.log()


def test_sigterm_finishes_work_under_way(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr", "de"))
    with ServiceProcess(root, slow=0.3) as service:
        wait_for(lambda: "processing: 6 translation(s) pending" in service.log(), "translation to start")
        assert service.terminate() == 0
    log = service.log()
    assert "received SIGTERM" in log and "stopped cleanly" in log
    assert collect_status(load_config(root / "config" / "syndicator.toml"))["service"] == "not running"
    # What was not translated stays pending and is done by the next start: every entry once.
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    assert _entries(root, "fr") == 3 and _entries(root, "de") == 3


def test_sigterm_abandons_work_after_stop_timeout(make_instance: Callable[..., Path]) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    # Each batch takes far longer than the stop timeout: the stop must not wait for it.
    with ServiceProcess(root, "--set", "run.stop_timeout=1s", slow=600) as service:
        wait_for(lambda: "processing: 3 translation(s) pending" in service.log(), "translation to start")
        assert service.terminate() == 1  # not a clean stop: a supervisor or script can tell
    assert "abandoning work under way" in service.log()
    assert "stopped after run.stop_timeout" in service.log()
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    assert _entries(root, "fr") == 3
