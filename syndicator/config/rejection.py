"""The last config edit the running service rejected, kept in data/reload-error.json.

A file next to the store rather than a row in it, so that `syndicator status` can still show it when the
config on disk is the broken one and names no store. The reloader (syndicator/reload.py) writes it; status
reads it here without importing anything that drives the service.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from syndicator.errors import ConfigError

log = logging.getLogger(__name__)

RELOAD_ERROR_FILE = Path("data") / "reload-error.json"  # under the instance root


def problems_of(exc: ConfigError) -> list[dict[str, Any]]:
    """Each problem of a config error as plain data: file, line, key, message, hint."""
    return [
        {"file": str(p.file) if p.file else "", "line": p.line, "key": p.key, "message": p.message,
         "hint": p.hint}
        for p in exc.problems
    ]  # fmt: skip


def last_reload_error(root: Path) -> dict[str, Any] | None:
    """The last rejected config edit of the instance at root, or None when the running config is the file's."""
    try:
        data: dict[str, Any] = json.loads((root / RELOAD_ERROR_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"time": "", "error": f"unreadable {RELOAD_ERROR_FILE}: {exc}", "problems": []}
    return data


def save_reload_error(root: Path, record: dict[str, Any] | None) -> None:
    """Record a rejection (or clear it with None); a failure to write is logged, never raised."""
    path = root / RELOAD_ERROR_FILE
    try:
        if record is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all, like every other file we write: temp file in the same folder, then rename.
        fd, tmp = tempfile.mkstemp(prefix=".reload-error.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    except OSError as exc:
        log.error("cannot record the reload state in %s: %s", path, exc)
