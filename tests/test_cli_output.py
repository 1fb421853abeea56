"""What the command line prints: each thing once, in one duration format, quiet when asked, no tracebacks."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import COMMANDS, main
from syndicator.models import CycleReport

# str(timedelta) ("0:05:00") beside the settings' own spelling ("5m") reads as two formats.
TIMEDELTA_STR = re.compile(r"\b\d+:\d\d:\d\d\b(?! UTC)")
# A dict's or list's repr in a message meant for people ("translated {}").
RAW_REPR = re.compile(r"\{\}|\[\]|\{'|\['")


def _config(root: Path) -> str:
    return str(root / "config" / "syndicator.toml")


def _bad_articles(root: Path) -> None:
    (root / "articles" / "broken.md").write_text('---\ntitle: "Harbour\n---\nBody.\n', encoding="utf-8")
    (root / "articles" / "untitled.md").write_text("no front matter at all\n", encoding="utf-8")


@pytest.mark.parametrize("command", ["settings", "status", "--help"])
def test_a_closed_pipe_is_not_an_error(make_instance: Callable[..., Path], command: str) -> None:
    """`syndicator settings | head`: the reader leaving early is not a traceback or a failure."""
    root = make_instance()
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "--config", _config(root), command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the interpreter has even started: every write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_global_options_also_follow_the_command(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    assert main(["check", "--config", _config(root), "--set", "publish.max_entries=lots"]) == 2
    assert "publish.max_entries" in capsys.readouterr().err
    assert (
        main(["--set", "site.title=A", "check", "-q", "--config", _config(root), "--set", "site.titel=B"])
        == 2
    )
    err = capsys.readouterr().err
    assert "site.titel" in err and "site.title:" not in err  # both --set lists were read, the good one passed


def test_settings_given_at_every_level_of_a_sub_command_all_count(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`models --set … list --set …`: a sub-command's own options must not replace its parent's."""
    root = make_instance()
    args = ["--config", _config(root), "--set", "publish.max_entries=lots", "models", "--set", "site.titel=B"]
    assert main([*args, "list", "--set", "site.title=C"]) == 2
    err = capsys.readouterr().err
    assert "publish.max_entries" in err and "site.titel" in err


def test_each_problem_is_shown_once_and_quiet_means_quiet(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    _bad_articles(root)
    assert main(["--config", _config(root), "run", "--once"]) == 0
    out, err = capsys.readouterr()
    for name in ("broken.md", "untitled.md"):
        assert (out + err).count(name) == 1, out + err
    assert "broken.md: front matter is not valid YAML at line 2, column 8" in err
    messages = out + re.sub(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", "", err)  # log lines' own time
    assert not TIMEDELTA_STR.search(messages) and not RAW_REPR.search(messages), messages
    # Known problems are not logged again; the summary still lists them, and -q silences every warning.
    assert main(["-q", "--config", _config(root), "run", "--once"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("broken.md") == 1 and out.count("untitled.md") == 1
    assert "2 problem(s)" in out


def test_status_and_check_name_everything_in_one_format(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    _bad_articles(root)
    assert main(["-q", "--config", _config(root), "run", "--once"]) == 0
    assert main(["-q", "--config", _config(root), "partners", "add", "embassy"]) == 0
    capsys.readouterr()
    assert main(["--config", _config(root), "status"]) == 0
    out = capsys.readouterr().out
    source_line = next(line for line in out.splitlines() if line.startswith("  newsroom ("))
    assert ": ok" not in source_line and "2 item(s) with problems" in source_line, source_line
    assert not TIMEDELTA_STR.search(out), out
    assert main(["--config", _config(root), "check"]) == 0
    out = capsys.readouterr().out
    assert "syndicator.toml: OK" in out and "partners.toml: OK (1 partner(s))" in out


def test_a_failed_install_does_not_say_finished(
    tmp_path: Path, make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    bogus = tmp_path / "bogus.argosmodel"
    bogus.write_bytes(b"not a zip")
    assert main(["--config", _config(root), "models", "install", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert "bogus.argosmodel" in err and "finished" not in err


def test_serve_says_where_it_serves_once(make_instance: Callable[..., Path]) -> None:
    root = make_instance()
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "serve", "--config", _config(root), "--set", "serve.port=0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("serving" in line for line in lines):
            lines.append(proc.stdout.readline())
        time.sleep(0.5)  # a second line would follow at once
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)
    text = "".join(lines) + rest
    assert text.count("serving ") == 1, text


def test_per_language_counts_read_as_text() -> None:
    assert CycleReport.per_language({}) == "none"
    assert CycleReport.per_language({"fr": 2, "es": 4, "ar": 0}) == "es 4, fr 2"


@pytest.mark.parametrize(
    "command",
    [[name] for name in sorted(COMMANDS) if name != "models"]
    + [
        ["models", "list"],
        ["models", "install"],
        ["models", "remove"],
        ["partners", "add"],
        ["settings"],
        ["init"],
    ],
)
def test_every_sub_command_help_says_what_it_does(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    paragraphs = [p for p in out.split("\n\n") if p.strip()]
    # usage, then a sentence of what it does, before the arguments
    assert not paragraphs[1].startswith(("options:", "positional arguments:")), out
    assert paragraphs[1].strip().endswith("."), out


def test_a_language_waiting_under_argos_is_pointed_at_the_apertium_pair_installed_here(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A new instance is set to Argos; the machine has apertium-eng-spa (CI installs it): `models list` and
    `status` say so, instead of only asking for an Argos model. fr has no Apertium pair: nothing offered."""
    root = make_instance(targets=("fr", "es"))  # argos, no model installed
    config = ["--config", str(root / "config" / "syndicator.toml")]
    assert main([*config, "-q", "run", "--once"]) == 0
    capsys.readouterr()
    assert main([*config, "models", "list"]) == 0
    listed = {
        line.split(":")[0].strip(): line for line in capsys.readouterr().out.splitlines() if "→" in line
    }
    offer = '[translation.engines] es = "apertium"'
    assert offer in listed["en → es"] and "apertium" not in listed["en → fr"]
    assert main([*config, "status"]) == 0
    status = capsys.readouterr().out
    assert status.count(offer) >= 2  # the language's no-model reason and the models section
    assert '[translation.engines] fr = "apertium"' not in status
