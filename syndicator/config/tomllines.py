"""Where keys sit in TOML text: key paths and their line numbers, for error messages."""

from __future__ import annotations

import json
import re

KeyPath = tuple[str | int, ...]


def key_text(path: KeyPath) -> str:
    """("source", 1, "path") -> "source[1].path"; ("term", "Harbour City") -> 'term."Harbour City"'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        # Written as TOML would: a key that is not bare (spaces, dots…) in quotes.
        name = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
        out += f".{name}" if out else name
    return out


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\[\]]+?)\s*\]\]")
_KEY_PART_RE = r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'"""  # bare, "quoted" or 'literal' key
_KEY_PART = re.compile(_KEY_PART_RE)
_KEY_LINE = re.compile(rf"^((?:{_KEY_PART_RE})(?:\s*\.\s*(?:{_KEY_PART_RE}))*)\s*=")


def key_lines(text: str) -> dict[KeyPath, int]:
    """Line of each key and table header: a cheap scan (multi-line values may fool it, rarely)."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    counts: dict[KeyPath, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if match := _ARRAY_HEADER.match(stripped):
            name = _key_parts(match.group(1))
            counts[name] = counts.get(name, -1) + 1
            table = (*name, counts[name])
        elif match := _HEADER.match(stripped):
            table = _key_parts(match.group(1))
        elif match := _KEY_LINE.match(stripped):
            lines.setdefault((*table, *_key_parts(match.group(1))), number)
            continue
        else:
            continue
        lines.setdefault(table, number)
    return lines


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _KEY_PART.findall(text))
