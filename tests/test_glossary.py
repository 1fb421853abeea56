"""config/glossary.toml: loading, validation errors (file, line, key, hint), and `syndicator check`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syndicator.cli import main
from syndicator.errors import ConfigError
from syndicator.glossary import load_glossary

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "glossary"
BAD = sorted(p.stem for p in DATA.glob("*.toml"))


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Path]:
    """An instance folder, with the working directory at it (errors show paths relative to it)."""
    (tmp_path / "config").mkdir()
    old = Path.cwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(old)


def test_every_bad_case_has_expectations() -> None:
    for name in BAD:
        assert (DATA / f"{name}.expected").is_file(), name


@pytest.mark.parametrize("name", BAD)
def test_bad_glossary(name: str, instance: Path) -> None:
    shutil.copy(DATA / f"{name}.toml", instance / "config" / "glossary.toml")
    with pytest.raises(ConfigError) as info:
        load_glossary(instance)
    expected = (DATA / f"{name}.expected").read_text(encoding="utf-8").strip()
    assert str(info.value).startswith(expected), str(info.value)
    assert info.value.hint


def test_missing_glossary_is_empty(instance: Path) -> None:
    glossary = load_glossary(instance)
    assert glossary.terms == () and glossary.file is None


def test_example_glossary_loads_longest_first() -> None:
    glossary = load_glossary(REPO)
    assert glossary.file == REPO / "config" / "glossary.toml"
    fr = dict(glossary.for_language("fr"))
    assert fr["Ocean Harbour Authority"] == "Autorité portuaire de l'Océan"
    assert fr["OHA"] == "OHA" and fr["Harbour City"] == "Harbour City"
    zh = dict(glossary.for_language("zh"))
    assert "Ocean Harbour Authority" not in zh  # no Chinese name given and not keep: the model translates it
    assert zh["Harbour Lights Festival"] == "Harbour Lights Festival"  # keep = true for unlisted languages
    lengths = [len(t) for t, _ in glossary.for_language("es")]
    assert lengths == sorted(lengths, reverse=True)


def test_check_reports_a_bad_glossary(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_instance()
    config = str(root / "config" / "syndicator.toml")
    (root / "config" / "glossary.toml").write_text('keep = ["OHA"]\n', encoding="utf-8")
    assert main(["--config", config, "check"]) == 0
    assert "glossary.toml: OK (1 term(s))" in capsys.readouterr().out
    shutil.copy(DATA / "bad_language.toml", root / "config" / "glossary.toml")
    assert main(["--config", config, "check"]) == 2
    err = capsys.readouterr().err
    assert 'glossary.toml:3: term."Ocean Harbour Authority".french: unknown key' in err
    assert main(["--config", config, "run", "--once"]) == 2  # the service does not start with it either


def test_language_keys_are_the_config_s_language_codes(instance: Path) -> None:
    """One language check for all files: a code the config accepts works here, in any spelling."""
    (instance / "config" / "glossary.toml").write_text(
        '[term."Harbour City"]\npt_BR = "Cidade do Porto"\nzh-Hant = "港城"\nES = "Ciudad Puerto"\n',
        encoding="utf-8",
    )
    (term,) = load_glossary(instance).terms
    assert term.render("pt-BR") == "Cidade do Porto"  # written pt_BR, configured pt-BR
    assert term.render("zh-Hant") == "港城" and term.render("es") == "Ciudad Puerto"
    assert term.render("pt") is None and term.render("fr") is None  # not listed, not kept
    (instance / "config" / "glossary.toml").write_text('[term.OHA]\nund = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"glossary.toml:2: term.OHA.und: unknown key"):
        load_glossary(instance)  # "und" is no language for the config either
