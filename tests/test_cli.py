"""The command line: exit codes and messages for bad config, models and status."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.config import SETTINGS
from syndicator.settings_table import Setting
from tests.support.edits import replaced


def test_check_ok(make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = make_instance()
    assert main(["--config", str(root / "config" / "syndicator.toml"), "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_bad_config_exits_2_and_nothing_runs(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    config = root / "config" / "syndicator.toml"
    config.write_text(
        replaced(config.read_text(), 'timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\ntitel = "x"')
    )
    assert main(["--config", str(config), "run", "--once"]) == 2
    err = capsys.readouterr().err
    assert "syndicator.toml" in err and "site.titel" in err and "title" in err
    assert not (root / "feeds").exists() and not (root / "data").exists()


def test_config_from_environment(make_instance: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_instance()
    monkeypatch.setenv("SYNDICATOR_CONFIG", str(root / "config" / "syndicator.toml"))
    monkeypatch.chdir(root.parent)
    assert main(["check"]) == 0


def test_set_override_is_validated(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    config = str(root / "config" / "syndicator.toml")
    assert main(["--config", config, "--set", "publish.max_entries=lots", "check"]) == 2
    assert "publish.max_entries" in capsys.readouterr().err


def test_install_rejects_a_non_package(
    tmp_path: Path, make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    bogus = tmp_path / "bogus.argosmodel"
    bogus.write_bytes(b"not a zip")
    assert main(["--config", str(root / "config" / "syndicator.toml"), "models", "install", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert "bogus.argosmodel" in err and "zip" in err
    assert list((root / "models").iterdir()) == []


def test_status_json_before_any_run(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    assert main(["--config", str(root / "config" / "syndicator.toml"), "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["articles"] == 0
    assert {m["target"]: m["covered"] for m in data["models"]} == {
        "fr": "missing",
        "ar": "missing",
        "ru": "missing",
    }


def test_python_dash_m_and_settings_docs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "syndicator", "settings"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert "site.feeds_url" in out and "translation.packages_dir" in out


def test_the_pseudo_engine_is_warned_about_everywhere(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Valid (tests and layout previews use it), but a production instance must not publish "[fr] …" unnoticed.
    config = str(make_instance(engine="pseudo", targets=("fr", "de")) / "config" / "syndicator.toml")
    assert main(["--config", config, "check"]) == 0
    out = capsys.readouterr().out
    assert 'warning: translation.engine = "pseudo" for fr, de' in out and "production" in out
    assert main(["--config", config, "status"]) == 0
    assert 'WARNING: translation.engine = "pseudo"' in capsys.readouterr().out
    assert main(["--config", config, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"][0].startswith('translation.engine = "pseudo"')
    assert main(["--config", config, "run", "--once"]) == 0
    assert 'WARNING syndicator: translation.engine = "pseudo" for fr, de' in capsys.readouterr().err


def test_one_pseudo_language_is_named_and_a_real_engine_is_not_warned_about(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(make_instance(engine="argos", targets=("fr", "de")) / "config" / "syndicator.toml")
    assert main(["--config", config, "check"]) == 0
    assert "warning" not in capsys.readouterr().out
    assert main(["--config", config, "--set", "translation.engines.de=pseudo", "check"]) == 0
    assert 'warning: translation.engines = "pseudo" for de:' in capsys.readouterr().out


@pytest.mark.parametrize("row", [s for s in SETTINGS if s.maximum is not None], ids=lambda s: s.key)
def test_a_value_past_a_settings_natural_range_is_refused_at_load(
    row: Setting, make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`check --set serve.port=99999` said OK and serve/run then crashed in bind(): every setting with a
    natural upper end is refused at load, naming the key, by every command."""
    config = str(make_instance() / "config" / "syndicator.toml")
    too_big = row.maximum + 1 if row.kind == "int" else row.maximum + 0.5
    for command in (["check"], ["serve"], ["run", "--once"]):
        assert main(["--config", config, "--set", f"{row.key}={too_big}", *command]) == 2
        err = capsys.readouterr().err
        assert f"{row.key}" in err and f"must be at most {row.maximum}" in err
        assert "Traceback" not in err
    assert main(["--config", config, "--set", f"{row.key}={row.maximum}", "check"]) == 0


def test_a_bind_failure_for_a_bad_host_hints_at_the_host(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(make_instance() / "config" / "syndicator.toml")
    sets = ["--set", "serve.host=256.1.1.1", "--set", "serve.port=0"]
    assert main(["--config", config, *sets, "serve"]) == 1
    err = capsys.readouterr().err
    assert "cannot listen on 256.1.1.1:0" in err and "check serve.host" in err and "serve.port=N" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["Embassy of Testland", "--languages", "fr"],
            ["partner name 'Embassy of Testland'", "embassy-of-testland"],
        ),
        (["embassy-paris", "--languages", "xx"], ["--languages: unknown language 'xx'"]),
        (["embassy-paris", "--languages", "de"], ["--languages: 'de' is not a published language"]),
    ],
)
def test_partners_add_names_the_bad_argument_not_a_temp_file(
    args: list[str],
    expected: list[str],
    make_instance: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_instance(targets=("fr",))
    assert main(["--config", str(root / "config" / "syndicator.toml"), "partners", "add", *args]) == 2
    err = capsys.readouterr().err
    assert all(e in err for e in expected), err
    assert ".tmp" not in err and "partner[0]" not in err and 'name = "' not in err
    assert not list((root / "config").glob(".*.tmp"))


@pytest.mark.parametrize("row", [s for s in SETTINGS if s.kind == "duration"], ids=lambda s: s.key)
def test_an_absurd_duration_is_refused_not_a_traceback(
    row: Setting, make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A duration is added to a date somewhere: too long ones overflowed (in parsing, or later mid-run)."""
    config = str(make_instance() / "config" / "syndicator.toml")
    for value in ("36501d", "99999999999999999d"):
        assert main(["--config", config, "--set", f"{row.key}={value}", "check"]) == 2
        err = capsys.readouterr().err
        assert f"{row.key}: '{value}' is too long" in err and "Traceback" not in err
