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
from tests.support.service import SLOW_BATCH_STARTED, ServiceProcess, wait_for, write_article


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
        shown = capsys.readouterr()
        assert "languages.targets" in shown.err
        # ...the service kept running: the rejection first, then its status
        assert shown.out.startswith("LAST CONFIG EDIT REJECTED") and "newsroom (folder" in shown.out

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


# The commands an operator reads the instance with while the file on disk holds a rejected edit: each runs on
# the config the service kept (what it prints), and exits 2 so a script still sees the file must be fixed.
# verify needs the instance's lock, which the service holds on SQLite: it says so (exit 1), as it does beside a
# running service with a valid file.
READ_ONLY = [
    (["status"], 2, ["LAST CONFIG EDIT REJECTED", "publish.max_entrys", "did you mean", "service: running",
                     "newsroom (folder, every 5m)", "fr: 3 done"]),
    (["models", "list"], 2, ["configured pairs:", "en → fr: pseudo"]),
    (["partners"], 2, []),
    (["verify"], 1, []),
]  # fmt: skip


def test_read_only_commands_work_while_the_file_on_disk_is_rejected(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",), extra="\n[publish]\nmax_entries = 20\n")
    file = root / "config" / "syndicator.toml"
    with ServiceProcess(root) as service:
        wait_for(lambda: _entries(root, "fr") == 3, "the first publish")
        edit_file(file, "max_entries = 20", "max_entrys = 20")
        wait_for(lambda: "config edit rejected" in service.log(), "the rejection in the log")
        for argv, code, expected in READ_ONLY:
            capsys.readouterr()
            assert main(["--config", str(file), *argv]) == code, argv
            shown = capsys.readouterr()
            assert "configuration error" in shown.err and "max_entrys" in shown.err, argv
            assert "on the config it accepted at" in shown.err, argv
            missing = [text for text in expected if text not in shown.out]
            assert not missing, (argv, missing, shown.out)
        # The same as data: the full status, with the file's problem and the service's rejection.
        assert main(["--config", str(file), "status", "--json"]) == 2
        data = json.loads(capsys.readouterr().out)
        assert data["config_error"]["problems"][0]["key"] == "publish.max_entrys"
        assert data["reload_error"]["problems"][0]["key"] == "publish.max_entrys"
        assert data["service"].startswith("running") and data["sources"][0]["name"] == "newsroom"
        # The running service's own /status page says it too.
        url = re.search(r"serving \S+ at (http://[\d.]+:\d+)", service.log())
        assert url is not None, service.log()
        page = _get(url.group(1), "/status")
        assert "max_entrys" in page and "newsroom" in page
        # Commands that would act on the broken file do not fall back.
        assert main(["--config", str(file), "check"]) == 2
        assert service.terminate() == 0
    # No service runs now: the config error alone (the next start would read the broken file).
    capsys.readouterr()
    assert main(["--config", str(file), "status"]) == 2
    shown = capsys.readouterr()
    assert "max_entrys" in shown.err and shown.out == ""
    assert "Traceback" not in service.log()


def _get(base: str, path: str) -> str:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode("utf-8", "replace")
    finally:
        conn.close()


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
        # The batch itself must be under way: a SIGTERM just before it would be a clean stop.
        wait_for(lambda: SLOW_BATCH_STARTED in service.log(), "a translation batch to start")
        assert service.terminate() == 1  # not a clean stop: a supervisor or script can tell
    assert "abandoning work under way" in service.log()
    assert "stopped after run.stop_timeout" in service.log()
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    assert _entries(root, "fr") == 3
