"""The instance's TOML files (syndicator.toml, glossary.toml, partners.toml): read one way, problems told one way.

Every problem names the file, the line, the key path and what to do (a hint), and all problems of a file
are reported together, sorted by line. The config, the glossary and the partners file all use this module,
so an admin reads the same kind of message whichever file is wrong.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from syndicator.config.tomllines import KeyPath, key_lines, key_text
from syndicator.errors import ConfigError


def read_toml(file: Path) -> tuple[str, dict[str, Any]]:
    """The text and parsed content of a TOML file; a ConfigError (with the line when known) otherwise.

    A missing file raises FileNotFoundError, so callers decide whether absent means empty."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(
            f"cannot read the file: {exc.strerror}", file=file, hint="check that it is a readable file"
        ) from exc
    try:
        # utf-8-sig: editors on Windows like to add a BOM, which TOML itself rejects.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            "the file is not UTF-8 text", file=file, line=line, hint="save it as UTF-8"
        ) from exc
    return text, parse_toml(text, file)


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_HINTS = (
    ("Invalid value", 'text values need double quotes, e.g. title = "Newsroom"'),
    ("Cannot overwrite", "this key or table is defined twice: keep one"),
    ("Cannot declare", "this key or table is defined twice: keep one"),
    ("Illegal character '\\n'", "close the quotes on the same line, or use triple quotes"),
    ("Unclosed array", "close the list with ] and separate items with commas"),
)


def parse_toml(text: str, file: Path) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes a ConfigError with its line and a hint."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = None
        if match := _TOML_POSITION.search(message):
            line = int(match.group(1))
            message = f"{message[: match.start()]} (line {line}, column {match.group(2)})"
        hint = next(
            (h for prefix, h in _TOML_HINTS if message.startswith(prefix)),
            "check the quotes, brackets and '=' on that line",
        )
        raise ConfigError(f"invalid TOML: {message}", file=file, line=line, hint=hint) from None


class Problems:
    """The problems found in one file, each at a key path; its line is looked up in the file's text."""

    def __init__(self, file: Path, text: str) -> None:
        self.file, self.text = file, text
        self.items: list[ConfigError] = []
        # Key paths whose value came from `--set`, not the file: their problems carry no file or line.
        self.overridden: set[KeyPath] = set()
        self._lines: dict[KeyPath, int] | None = None

    def add(self, path: KeyPath, message: str, hint: str = "") -> None:
        """Record one problem at a key path."""
        if any(path[:n] in self.overridden for n in range(1, len(path) + 1)):
            self.items.append(ConfigError(f"{message} (from --set)", key=key_text(path), hint=hint))
            return
        self.items.append(
            ConfigError(message, file=self.file, key=key_text(path), line=self.line_of(path), hint=hint)
        )

    def add_error(self, error: ConfigError) -> None:
        """Record a problem that was found without a key path (e.g. an unknown `--set` key)."""
        self.items.append(error)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of the key, or of the closest enclosing table that is in the file."""
        if self._lines is None:
            self._lines = key_lines(self.text)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_any(self) -> None:
        """Raise one ConfigError for everything recorded, in file order (`--set` problems first)."""
        if self.items:
            raise ConfigError.collect(sorted(self.items, key=lambda p: p.line or 0), self.file)
