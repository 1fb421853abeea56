"""Settings documentation generated from the settings table: docs/settings.md and --help."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from syndicator.config.durations import format_duration
from syndicator.config.load import CONFIG_ENV
from syndicator.config.parsers import toml_form, toml_literal
from syndicator.settings_table import EXAMPLE_TOML, REQUIRED, SETTINGS, SOURCE_KINDS, SOURCE_SETTINGS, Setting


def _type_label(setting: Setting) -> str:
    labels = {
        "str": "string",
        "url": "URL",
        "timezone": "time zone",
        "language": "language code",
        "languages": "list of language codes",
        "int": "integer",
        "bool": "boolean",
        "path": "path",
        "dir": "folder (must exist)",
        "duration": "duration",
        "database": "database URL",
        "ratio_range": "[min, max] numbers",
        "urls": "list of URLs",
        "number": "number",
        "language_ratios": "table: language → number from 0 to 1",
        "target": '`"folder"` or `"s3://bucket/prefix"`',
        "endpoint": "URL (scheme, host, port)",
    }
    if setting.kind == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in setting.choices)
    if setting.kind == "selectors":
        return "table: " + " / ".join(f"`{c}`" for c in setting.choices) + " → CSS selector"
    if setting.kind == "language_map":
        return "table: language → " + " or ".join(f"`{c}`" for c in setting.choices)
    label = labels[setting.kind]
    if setting.bare_seconds:
        label += " (or a number of seconds)"
    if isinstance(setting.minimum, timedelta):
        return f"{label} ≥ {format_duration(setting.minimum)}"
    if setting.minimum is not None and setting.maximum is not None:
        return f"{label} from {setting.minimum} to {setting.maximum}"
    if setting.minimum is not None:
        return f"{label} ≥ {setting.minimum}"
    return label


def _default_label(setting: Setting) -> str:
    if setting.default is REQUIRED:
        return "*required*"
    if setting.derived:
        return f"`{setting.default_doc}`"
    return f"`{toml_literal(toml_form(setting.default))}`"


def _table(settings: Iterable[Setting]) -> list[str]:
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for s in settings:
        cells = (f"`{s.key}`", _type_label(s), _default_label(s), s.help)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return rows


def settings_markdown() -> str:
    """The content of docs/settings.md, generated from the settings tables."""
    out = [
        "# Settings",
        "",
        "<!-- Generated from syndicator/settings_table.py by"
        " `python -m syndicator.config > docs/settings.md`; do not edit by hand. -->",
        "",
        "Syndicator reads `config/syndicator.toml` in the instance folder (the folder that holds `config/`),",
        f"or the file given by `--config` or the `{CONFIG_ENV}` environment variable.",
        "Settings are applied in order: defaults, then the file, then `--set KEY=VALUE` options;",
        "the result is validated once, and every problem is reported together.",
        "",
        "- A key such as `site.title` is written as `title = ...` under `[site]`.",
        "- Relative paths are relative to the instance folder.",
        '- Durations are written like `"30s"`, `"5m"`, `"2h"`, `"1d"`, `"1h30m"` or `"0.5s"`, at most `"36500d"` (a century: every duration is added to a date somewhere). '
        "The `[http]` timeouts and pauses were numbers of seconds once: a bare number there is still read as seconds.",
        "- Language codes are ISO 639 / BCP 47 codes that Babel knows, such as `en`, `zh` or `pt-BR`, published in "
        "BCP 47 spelling (`fr_FR` becomes `fr-FR`). A language's default region is that language (`fr` and `fr-FR` "
        "are one language: list it once); other regions are languages of their own (`pt-PT` beside `pt`).",
        "- `--set` values are read as TOML values when they parse (`--set publish.max_entries=20`),",
        '  else as plain text (`--set "site.title=Daily News"`); `--set languages.targets=fr,es` also works.',
        "",
        "## Global settings",
        "",
        *_table(SETTINGS),
        "",
        "## Sources",
        "",
        "Each source is a `[[source]]` table. Source kinds: "
        + ", ".join(f"`{k}`" for k in SOURCE_KINDS)
        + ".",
        "",
        "### Keys of every source",
        "",
        *_table(SOURCE_SETTINGS["*"]),
    ]
    for kind in SOURCE_KINDS:
        out += ["", f'### Keys of `kind = "{kind}"`', "", *_table(SOURCE_SETTINGS[kind])]
    out += ["", "## Example", "", "```toml", EXAMPLE_TOML.rstrip("\n"), "```", ""]
    return "\n".join(out)


def settings_help() -> str:
    """A short list of settings for the CLI's --help epilog (use a raw formatter to keep the layout)."""
    rows = [
        (
            s.key,
            _type_label(s).replace("`", ""),
            _default_label(s).replace("`", "").replace("*required*", "(required)"),
        )
        for s in SETTINGS
    ]
    width = max(len(r[0]) for r in rows)
    kind_width = max(len(r[1]) for r in rows)
    lines = ["settings (config/syndicator.toml, or --set KEY=VALUE):"]
    lines += [f"  {key:<{width}}  {kind:<{kind_width}}  {default}" for key, kind, default in rows]
    common = ", ".join(s.name for s in SOURCE_SETTINGS["*"])
    lines.append(f"each [[source]] has: {common}")
    for kind in SOURCE_KINDS:
        lines.append(f'  kind = "{kind}" adds: ' + ", ".join(s.name for s in SOURCE_SETTINGS[kind]))
    lines.append("full reference: docs/settings.md")
    return "\n".join(lines)
