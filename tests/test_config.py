"""Configuration loading and validation: data-driven bad cases, plus the good paths."""

from __future__ import annotations

import dataclasses
import pickle
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.localedata import locale_identifiers

from syndicator.config import (
    REQUIRED,
    SETTINGS,
    SOURCE_SETTINGS,
    Config,
    SiteConfig,
    format_duration,
    load_config,
    parse_duration,
    settings_help,
    settings_markdown,
)
from syndicator.config.languages import bcp47, is_language, language_key
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.settings_table import EXAMPLE_TOML
from tests.support.edits import replaced

DATA = Path(__file__).parent / "data" / "config"
REPO = Path(__file__).resolve().parents[1]
BAD_CASES = sorted(p.stem for p in DATA.glob("*.toml"))

MINIMAL = """\
[site]
link = "https://news.example.org/"

[[source]]
name = "newsroom"
kind = "folder"
path = "articles"
"""


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder with config/ and articles/, and the cwd set to it."""
    (tmp_path / "config").mkdir()
    (tmp_path / "articles").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(root: Path, text: str) -> Path:
    path = root / "config" / "syndicator.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- bad cases: tests/data/config/NAME.toml + NAME.expected ----------------------------------------


def test_every_bad_case_has_expectations() -> None:
    assert BAD_CASES, "no fixtures found"
    for name in BAD_CASES:
        assert (DATA / f"{name}.expected").is_file(), f"{name}.toml has no {name}.expected"


@pytest.mark.parametrize("name", BAD_CASES)
def test_bad_config(name: str, instance: Path) -> None:
    path = write_config(instance, (DATA / f"{name}.toml").read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    expected = [line for line in (DATA / f"{name}.expected").read_text(encoding="utf-8").splitlines() if line]
    missing = [line for line in expected if line not in message]
    assert not missing, f"missing from the error:\n{missing}\n\nerror was:\n{message}"


def test_all_problems_are_reported_at_once(instance: Path) -> None:
    path = write_config(instance, (DATA / "multiple_errors.toml").read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert len(problems) == 7
    assert [p.key for p in problems] == [
        "site.titel",
        "site.timezone",
        "languages.targets[1]",
        "publish.max_entries",
        "store.url",
        "source[0].path",
        "source[0].every",
    ]
    assert all(p.file == path for p in problems)
    assert str(caught.value).count("\n") == 7  # a header, then one line per problem


def test_single_problem_is_raised_as_itself(instance: Path) -> None:
    path = write_config(instance, replaced(MINIMAL, 'path = "articles"', 'path = "gone"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.problems == (error,)
    assert (error.file, error.key, error.line) == (path, "source[0].path", 7)
    assert error.hint.startswith("create it or fix the path")


# --- the error type -------------------------------------------------------------------------------


def test_config_error_format(instance: Path) -> None:
    error = ConfigError(
        "folder 'articles' does not exist",
        file=instance / "config" / "syndicator.toml",
        key="source[1].path",
        hint="create it or fix the path",
    )
    assert str(error) == (
        "config/syndicator.toml: source[1].path: folder 'articles' does not exist "
        "(hint: create it or fix the path)"
    )
    assert isinstance(error, SyndicatorError)
    assert str(ConfigError("bad", file=instance / "x.toml", key="a.b", line=3)) == "x.toml:3: a.b: bad"
    assert str(SyndicatorError("plain")) == "plain"


def test_config_error_pickles(instance: Path) -> None:
    error = ConfigError("bad", file=instance / "x.toml", key="a.b", line=3, hint="fix it")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.key, copy.line, copy.hint) == (str(error), "a.b", 3, "fix it")


# --- good paths -----------------------------------------------------------------------------------


def test_defaults(instance: Path) -> None:
    config = load_config(write_config(instance, MINIMAL))
    root = instance
    assert config.root == root
    assert config.file == root / "config" / "syndicator.toml"
    assert config.site == SiteConfig(
        title="Newsroom",
        link="https://news.example.org/",
        feeds_url="https://news.example.org/feeds/",
        timezone="UTC",
        author="Newsroom",
    )
    assert (config.languages.source, config.languages.targets) == ("en", ())
    assert config.languages.all == ("en",)
    t = config.translation
    assert (t.engine, dict(t.engines), t.pivot) == ("argos", {}, "en")
    assert (t.beam_size, t.batch_size, t.threads) == (2, 64, 2)
    assert t.packages_dir == root / "models"
    assert config.publish.feeds_dir == root / "feeds"
    assert config.publish.max_entries == 50
    assert config.store.url == f"sqlite:///{root / 'data' / 'syndicator.db'}"
    assert config.publish.locales_dir == root / "locales"
    (source,) = config.sources
    assert source.name == "newsroom"
    assert source.kind == "folder"
    assert source.every == timedelta(minutes=5)
    assert source.language == "en"
    assert source.enabled is True
    assert dict(source.options) == {
        "path": root / "articles",
        "max_file_bytes": 10_000_000,
        "max_image_bytes": 5_000_000,
        "symlinks": "inside",
        "watch": True,
    }
    assert source.max_body_bytes == 1_000_000
    assert config.http.deadline == timedelta(seconds=60)


def test_derived_defaults_follow_their_settings(instance: Path) -> None:
    text = replaced(
        MINIMAL,
        'link = "https://news.example.org/"',
        'link = "https://example.org/news"\ntitle = "Harbour News"\n[languages]\nsource = "zh"\ntargets = ["en"]',
    )
    config = load_config(write_config(instance, text))
    assert config.site.feeds_url == "https://example.org/news/feeds/"
    assert config.site.author == "Harbour News"
    assert config.sources[0].language == "zh"


def test_full_example(instance: Path) -> None:
    config = load_config(write_config(instance, EXAMPLE_TOML))
    assert config.site.timezone == "Asia/Shanghai"
    assert config.languages.all == ("en", "fr", "es", "ar", "zh", "ru")
    assert config.translation.engines == {"es": "apertium"}
    assert config.translation.engine_for("es") == "apertium"
    assert config.translation.engine_for("fr") == "argos"


def test_shipped_config_is_valid() -> None:
    shipped = REPO / "config" / "syndicator.toml"
    if not shipped.is_file():
        pytest.skip("no config/syndicator.toml in this checkout")
    config = load_config(shipped, env={})
    assert config.root == REPO


def test_relative_paths_resolve_against_the_instance_root(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "elsewhere").mkdir()
    (instance / "shared").mkdir()
    text = """\
[site]
link = "https://news.example.org/"

[translation]
packages_dir = "../shared-models"

[publish]
feeds_dir = "public/feeds"
locales_dir = "~/locales"

[store]
url = "sqlite:///state/news.db?timeout=5"

[[source]]
name = "newsroom"
kind = "folder"
path = "shared"
"""
    path = write_config(instance, text)
    monkeypatch.chdir(instance / "elsewhere")  # the cwd must not matter
    config = load_config(path)
    assert config.translation.packages_dir == instance.parent / "shared-models"
    assert config.publish.feeds_dir == instance / "public" / "feeds"
    assert config.publish.locales_dir == Path("~/locales").expanduser()
    assert config.store.url == f"sqlite:///{instance / 'state' / 'news.db'}?timeout=5"
    assert config.sources[0].options["path"] == instance / "shared"


def test_absolute_paths_and_other_databases_are_kept(
    instance: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    feeds = tmp_path_factory.mktemp("feeds")
    text = replaced(
        MINIMAL,
        "[[source]]",
        f'[publish]\nfeeds_dir = "{feeds}"\n[store]\nurl = "postgresql://u@db/news"\n\n[[source]]',
    )
    config = load_config(write_config(instance, text))
    assert config.publish.feeds_dir == feeds
    assert config.store.url == "postgresql://u@db/news"


def test_root_is_the_file_folder_outside_config(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    path = tmp_path / "news.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    config = load_config(path)
    assert config.root == tmp_path
    assert config.sources[0].options["path"] == tmp_path / "articles"


def test_path_resolution_order(instance: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    default = write_config(instance, MINIMAL)
    other_root = tmp_path_factory.mktemp("other")
    (other_root / "config").mkdir()
    (other_root / "articles").mkdir()
    other = write_config(other_root, replaced(MINIMAL, "https://news", "https://other"))

    assert load_config(env={}).file == default  # ./config/syndicator.toml
    from_env = load_config(env={"SYNDICATOR_CONFIG": str(other)})
    assert (from_env.file, from_env.root) == (other, other_root)
    assert load_config(default, env={"SYNDICATOR_CONFIG": str(other)}).file == default  # the argument wins
    assert load_config(other_root, env={}).file == other  # an instance folder is accepted too


def test_missing_file(instance: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(env={})
    assert "config/syndicator.toml: config file not found" in str(caught.value)
    assert "SYNDICATOR_CONFIG" in caught.value.hint
    with pytest.raises(ConfigError, match="SYNDICATOR_CONFIG points here"):
        load_config(env={"SYNDICATOR_CONFIG": str(instance / "nope.toml")})


def test_overrides_are_applied(instance: Path) -> None:
    path = write_config(instance, MINIMAL)
    config = load_config(
        path,
        overrides={
            "site.title": "Daily News",  # not valid TOML: taken as plain text
            "publish.max_entries": "20",  # TOML: an integer
            "languages.targets": "fr, es",  # a comma list is accepted for languages
            "translation.engines.es": "apertium",
            "site.timezone": '"Europe/Paris"',  # quoted TOML string
        },
    )
    assert config.site.title == "Daily News"
    assert config.site.author == "Daily News"
    assert config.publish.max_entries == 20
    assert config.languages.targets == ("fr", "es")
    assert config.translation.engines == {"es": "apertium"}
    assert config.site.timezone == "Europe/Paris"


def test_override_string_setting_keeps_the_text(instance: Path) -> None:
    config = load_config(write_config(instance, MINIMAL), overrides={"site.title": "2024"})
    assert config.site.title == "2024"


def test_overrides_are_validated(instance: Path) -> None:
    path = write_config(instance, MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides={"publish.max_entries": "0", "site.titel": "x", "source.path": "y"})
    message = str(caught.value)
    assert "publish.max_entries: must be at least 1, got 0 (from --set)" in message
    assert "site.titel: unknown setting (from --set) (hint: did you mean 'site.title'?)" in message
    assert "--set cannot change [[source]] entries" in message
    assert all(p.line is None for p in caught.value.problems)


def test_config_is_frozen(instance: Path) -> None:
    config = load_config(write_config(instance, EXAMPLE_TOML))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.site = config.site  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.publish.max_entries = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.translation.engines["fr"] = "argos"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.sources[0].options["path"] = Path("/")  # type: ignore[index]
    assert isinstance(config.sources, tuple)
    assert isinstance(config.languages.targets, tuple)
    assert isinstance(config, Config)


@pytest.mark.parametrize(
    ("code", "published"),
    [("pt-BR", "pt-BR"), ("pt_BR", "pt-BR"), ("zh-Hant", "zh-Hant"), ("sr-Latn", "sr-Latn"), ("es-419", "es-419"),
     ("fil", "fil"), ("fr_FR", "fr-FR"), ("FR", "fr"), ("zh_hant", "zh-Hant"), ("iw", "he"), ("no", "no"),
     ("nb", "nb")],
)  # fmt: skip
def test_language_codes_are_published_in_bcp47(code: str, published: str, instance: Path) -> None:
    text = replaced(MINIMAL, "[[source]]", f'[languages]\ntargets = ["{code}"]\n\n[[source]]')
    assert load_config(write_config(instance, text)).languages.targets == (published,)


def test_every_code_babel_knows_has_a_spelling_and_a_key() -> None:
    """CLDR names likely locales Babel has no data for ("no" → no_Latn_NO): no code may crash the config."""
    for ident in locale_identifiers():
        assert is_language(bcp47(ident)), ident
        assert language_key(ident) == language_key(bcp47(ident)), ident


@pytest.mark.parametrize(
    ("targets", "message"),
    [('["fr", "fr_FR"]', "'fr_FR' is the same language as 'fr'"), ('["fr-FR", "fr_FR"]', "'fr_FR' is listed twice"),
     ('["zh", "zh-Hans-CN"]', "'zh-Hans-CN' is the same language as 'zh'"), ('["pt", "pt-BR"]', "the same language")],
)  # fmt: skip
def test_one_language_in_two_spellings_is_refused(targets: str, message: str, instance: Path) -> None:
    text = replaced(MINIMAL, "[[source]]", f"[languages]\ntargets = {targets}\n\n[[source]]")
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(instance, text))


@pytest.mark.parametrize(
    "targets", ['["pt", "pt-PT"]', '["fr", "fr-CA"]', '["zh", "zh-Hant"]', '["es", "es-419"]']
)
def test_regional_variants_stay_languages_of_their_own(targets: str, instance: Path) -> None:
    text = replaced(MINIMAL, "[[source]]", f"[languages]\ntargets = {targets}\n\n[[source]]")
    assert len(load_config(write_config(instance, text)).languages.targets) == 2


def test_target_equal_to_source_in_another_spelling(instance: Path) -> None:
    text = replaced(MINIMAL, "[[source]]", '[languages]\nsource = "pt-BR"\ntargets = ["pt_BR"]\n\n[[source]]')
    with pytest.raises(ConfigError, match="'pt-BR' is the source language"):
        load_config(write_config(instance, text))


def test_utf8_bom_is_accepted(instance: Path) -> None:
    path = instance / "config" / "syndicator.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(path).site.link == "https://news.example.org/"


# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 2h 3m 4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 10S ", timedelta(seconds=10)),
        ("0.5s", timedelta(milliseconds=500)),
        ("1m0.25s", timedelta(minutes=1, milliseconds=250)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "m", "5 minutes", "1m1h", "-5m", "1.5h", ".5s", "5.s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "value",
    [timedelta(0), timedelta(milliseconds=10), timedelta(seconds=90.25), timedelta(days=1, seconds=1)],
)
def test_format_duration_reads_back(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


# The [http] timeouts were numbers of seconds before they became durations: both forms, file and --set.
HTTP_DURATIONS = ["connect_timeout", "read_timeout", "deadline", "backoff", "max_wait"]


@pytest.mark.parametrize("name", HTTP_DURATIONS)
@pytest.mark.parametrize(("written", "seconds"), [('"7s"', 7), ("7", 7), ("7.5", 7.5), ('"1m"', 60)])
def test_http_times_are_durations_and_old_numbers_still_read(
    instance: Path, name: str, written: str, seconds: float
) -> None:
    path = write_config(instance, MINIMAL + f"\n[http]\n{name} = {written}\n")
    assert getattr(load_config(path).http, name) == timedelta(seconds=seconds)
    plain = write_config(instance, MINIMAL)
    overridden = load_config(plain, overrides={f"http.{name}": written.strip('"')})
    assert getattr(overridden.http, name) == timedelta(seconds=seconds)


# --- the table drives the docs --------------------------------------------------------------------


def test_docs_are_generated_from_the_table() -> None:
    committed = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    # rstrip: `syndicator settings > docs/settings.md` (print) adds one more newline than the module does.
    fresh = settings_markdown()
    assert committed.rstrip("\n") == fresh.rstrip("\n"), (
        "regenerate: python -m syndicator.config > docs/settings.md"
    )


def test_docs_and_help_name_every_setting() -> None:
    markdown, short = settings_markdown(), settings_help()
    for setting in SETTINGS:
        assert f"`{setting.key}`" in markdown
        assert setting.key in short
    for settings in SOURCE_SETTINGS.values():
        for setting in settings:
            assert f"`{setting.key}`" in markdown


def test_every_setting_reaches_the_config(instance: Path) -> None:
    config = load_config(write_config(instance, EXAMPLE_TOML))
    for setting in SETTINGS:
        section, name = setting.key.split(".")
        holder = getattr(config, section)
        assert hasattr(holder, name), f"{setting.key} has no Config attribute"
    required = [s.key for s in SETTINGS if s.default is REQUIRED]
    assert required == ["site.link"]


# A hint names a code that is then accepted, or says why there is none (Babel names Klingon but has no locale
# data for it: the hint once said "use 'tlh'", and 'tlh' was then refused with "did you mean 'th'?").
LANGUAGE_HINTS = [
    ("Chinese", "use the code: 'zh'"),
    ("klingon", "Klingon ('tlh') has no locale data"),
    ("tlh", "Klingon ('tlh') has no locale data"),
    ("frnch", "'fr'"),
    ("cn", "country code; did you mean 'zh'?"),
    ("ar-XX", "'ar'"),
]


@pytest.mark.parametrize(("code", "hint"), LANGUAGE_HINTS)
def test_language_hints_lead_somewhere(code: str, hint: str) -> None:
    from syndicator.config.languages import is_language, language_hint

    assert not is_language(code)
    assert hint in language_hint(code)
    for suggested in set(re.findall(r"'([^']+)'", language_hint(code))) - {code}:
        assert is_language(suggested) or "no locale data" in language_hint(code), suggested
