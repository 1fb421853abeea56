"""What the running service keeps of its configuration beside the store: the config it runs on
(data/config-in-force.json) and the last edit it rejected (data/reload-error.json).

Files next to the store rather than rows in it, so that `syndicator status` can still read them when the
config on disk is the broken one and names no store. The service and its reloader (syndicator/service.py,
syndicator/reload.py) write them; read-only commands read them here without importing anything that drives
the service.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicator.config.load import instance_root, load_config_text
from syndicator.config.model import Config
from syndicator.errors import ConfigError

log = logging.getLogger(__name__)

RELOAD_ERROR_FILE = Path("data") / "reload-error.json"  # under the instance root
IN_FORCE_FILE = Path("data") / "config-in-force.json"


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
    _save(root / RELOAD_ERROR_FILE, record)


def record_config_in_force(config: Config, overrides: Mapping[str, str]) -> None:
    """The service runs on `config` from now on: keep its text and --set overrides, with who runs it."""
    record = {"file": str(config.file), "text": config.text, "overrides": dict(overrides), "pid": os.getpid(),
              "host": socket.gethostname(), "since": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    _save(config.root / IN_FORCE_FILE, record)


def forget_config_in_force(root: Path) -> None:
    """The service stopped: no config is in force."""
    _save(root / IN_FORCE_FILE, None)


@dataclass(frozen=True)
class InForce:
    """The config a service recorded as the one it runs on, and that service's process."""

    config: Config
    overrides: dict[str, str]  # the service's --set options, already part of `config`
    pid: int
    host: str
    since: str  # ISO 8601, UTC


def config_in_force(file: Path) -> InForce | None:
    """The config the service of the instance holding `file` recorded as in force, validated again; None when
    there is none, or it no longer loads (then only the error on disk can be told)."""
    try:
        record = json.loads((instance_root(file) / IN_FORCE_FILE).read_text(encoding="utf-8"))
        recorded = Path(record["file"])
        overrides = {str(k): str(v) for k, v in dict(record["overrides"]).items()}
        config = load_config_text(recorded, str(record["text"]), overrides)
        return InForce(config, overrides, int(record["pid"]), str(record["host"]), str(record["since"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, ConfigError) as exc:
        log.debug("the recorded config in force is not usable: %s", exc)
        return None


# One writer at a time within the service; one service per instance (syndicator/lock.py).
_save_lock = threading.Lock()


def _save(path: Path, record: dict[str, Any] | None) -> None:
    """Write a record whole (or remove it with None); a failure is logged, never raised: the service goes on."""
    with _save_lock:
        _remove_leftovers(path)
        _write(path, record)


def _remove_leftovers(path: Path) -> None:
    """Temp files of this record that a writer killed between creating and renaming one left behind: with one
    writer at a time, any temp file there is one."""
    try:
        for leftover in path.parent.glob(f".{path.stem}.*.tmp"):
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove a leftover temp file of %s: %s", path, exc)


def _write(path: Path, record: dict[str, Any] | None) -> None:
    try:
        if record is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all, like every other file we write: temp file in the same folder, then rename.
        # mkstemp makes it readable by its owner only: the config text may hold a database password.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.error("cannot record the service's config state in %s: %s", path, exc)
