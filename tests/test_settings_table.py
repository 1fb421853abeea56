"""Each setting is declared once (a field in settings_table.py); everything else is derived from it."""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import timedelta
from pathlib import Path

import pytest

from syndicator.config import SETTINGS, SOURCE_SETTINGS, Config, load_config
from syndicator.config.parsers import PARSERS, toml_form
from syndicator.http import HttpClient, client_for
from syndicator.settings_table import (
    KINDS,
    REQUIRED,
    SECTIONS,
    Section,
    Setting,
    SourceConfig,
    rows_of,
    setting,
    settings_of,
)
from syndicator.translate import EngineOptions

ROOT = Path("/instance")


def _declared() -> list[tuple[type, dataclasses.Field[object], Setting]]:
    out = []
    for cls in [*SECTIONS.values(), SourceConfig]:
        rows = {s.name: s for s in settings_of(cls)}
        out += [(cls, f, rows[f.name]) for f in dataclasses.fields(cls) if f.name in rows]
    return out


@pytest.mark.parametrize(("cls", "f", "row"), _declared(), ids=lambda x: getattr(x, "key", ""))
def test_each_field_has_the_type_of_its_kind(cls: type, f: dataclasses.Field[object], row: Setting) -> None:
    expected = KINDS[row.kind]
    if row.derived and row.default is None:
        expected += " | None"  # computed in __post_init__ when left out
    assert f.type == expected, f"{row.key}: kind {row.kind!r} holds {expected}, the field says {f.type}"


@pytest.mark.parametrize(
    "row", [s for s in SETTINGS if s.default is not REQUIRED and not s.derived], ids=lambda s: s.key
)
def test_each_default_is_a_valid_value_of_its_kind(row: Setting) -> None:
    parsed = PARSERS[row.kind](toml_form(row.default), row, ROOT)
    if row.kind == "path":
        assert parsed == ROOT / row.default  # relative to the instance, like a value from the file
    elif row.kind == "database":
        assert parsed.endswith(str(ROOT / "data" / "syndicator.db"))
    else:
        assert parsed == row.default


TIME_NAMES = re.compile(r"(timeout|deadline|backoff|wait|delay|interval|every|_age|after|ttl)$")


@pytest.mark.parametrize("row", [*SETTINGS, *(s for rows in SOURCE_SETTINGS.values() for s in rows)], ids=str)
def test_every_time_valued_setting_is_a_duration(row: Setting) -> None:
    """One spelling for time in the config ("10s", "5m"): no setting counts seconds as a bare number."""
    timed = TIME_NAMES.search(row.name) or re.search(r"\bseconds?\b", row.help, re.IGNORECASE)
    assert not (timed and row.kind in ("int", "number")), f"{row.key} counts time: declare it a duration"


def test_config_has_one_field_per_section() -> None:
    fields = typing.get_type_hints(Config)
    for name, cls in SECTIONS.items():
        assert fields.get(name) is cls, f"Config has no field {name}: {cls.__name__}"


def test_keys_are_unique_and_documented_once() -> None:
    keys = [s.key for s in SETTINGS]
    assert len(keys) == len(set(keys))
    for kind, rows in SOURCE_SETTINGS.items():
        names = [s.name for s in rows]
        assert len(names) == len(set(names)), kind


def test_a_new_setting_is_one_line() -> None:
    """What adding a setting takes: one field. Its key, default, help and validation follow."""

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Example(Section):
        retries: int = setting("int", 3, "How often to try again.", minimum=0)
        every: timedelta = setting("duration", timedelta(minutes=1), "How often.")

    (retries, every) = rows_of(Example, "example")
    assert (retries.key, retries.kind, retries.default, retries.minimum) == ("example.retries", "int", 3, 0)
    assert every.key == "example.every" and toml_form(every.default) == "1m"
    assert Example().retries == 3 and Example(retries=5).every == timedelta(minutes=1)


def test_sections_go_to_their_users_as_they_are(tmp_path: Path) -> None:
    """No hand mapping into option objects: the HTTP client and the engines get the section itself."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "syndicator.toml").write_text(
        '[site]\nlink = "https://news.example.org/"\n[http]\nread_timeout = 7\nmax_bytes = 4096\n'
        "[translation]\nbeam_size = 3\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "config" / "syndicator.toml")
    http = client_for(config)
    assert http.options is config.http and (http.options.read_timeout, http.options.max_bytes) == (
        timedelta(seconds=7),
        4096,
    )
    assert "https://news.example.org/" in http.user_agent
    options = EngineOptions.of(config)
    assert options.translation is config.translation and options.data_dir == tmp_path / "data"
    assert HttpClient().options.max_bytes == 20_000_000  # the one default, wherever a client is made
