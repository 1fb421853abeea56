"""Live reload: watch config/, validate an edit, and put it in force or reject it (the old config keeps running).

The last rejection is kept in data/reload-error.json (`syndicator status` shows it) until a valid edit
clears it: a file next to the store rather than a row in it, so that `status` can still show it when the
config on disk is the broken one and names no store.
Parts of the Context that other modules derive from config files (glossary, partners…) register a hook in
RELOAD_HOOKS; each hook gets the new Context and the previous Config and may set what it owns.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicator.config import Config, load_config
from syndicator.errors import ConfigError, SyndicatorError
from syndicator.localize import Catalogs
from syndicator.pipeline import Context
from syndicator.publish.writer import LocalFolderStore
from syndicator.runner import Runner

log = logging.getLogger(__name__)

RELOAD_ERROR_FILE = Path("data") / "reload-error.json"  # under the instance root
DEBOUNCE_MS = 500  # editors save in several steps (temp file, rename, chmod): one reload for all of them

ReloadHook = Callable[[Context, Config], None]
RELOAD_HOOKS: list[ReloadHook] = []


def _check_partners(config: Config) -> None:
    from syndicator.partners import load_partners

    load_partners(config.partners_file, config.languages.all)


# Other files in config/ validated with each reload: a ConfigError rejects the edit like a bad main file.
RELOAD_CHECKS: list[Callable[[Config], None]] = [_check_partners]


def _ignored(path: str) -> bool:
    """Editor droppings (swap, backup, hidden temp files) are not config."""
    name = Path(path).name
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp"))


def rebuild_context(old: Context, config: Config, runner: Runner) -> Context:
    """A Context for a new config: the store stays; engines stay unless [translation] changed."""
    if config.store.url != old.config.store.url:
        log.warning("store.url changed: it takes effect after a restart (still using %s)", old.store.url)
    same_translation = config.translation == old.config.translation
    ctx = replace(
        old,
        config=config,
        writer=old.writer
        if config.publish.feeds_dir == old.config.publish.feeds_dir
        else LocalFolderStore(config.publish.feeds_dir),
        runner=runner,
        catalogs=Catalogs(config.locales_dir),
        faithful=replace(
            old.faithful, names=config.translation.protect_names, tags_language=config.languages.source
        ),
        # Loaded models stay loaded unless the engine settings changed.
        engines=old.engines if same_translation else {},
    )
    for hook in RELOAD_HOOKS:
        hook(ctx, old.config)
    return ctx


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


def _save_reload_error(root: Path, record: dict[str, Any] | None) -> None:
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


class Reloader:
    """Watches the config folder in a thread; valid edits go to `apply`, invalid ones are logged and kept."""

    def __init__(
        self, file: Path, overrides: Mapping[str, str], apply: Callable[[Config], None], root: Path
    ) -> None:
        self.file, self.overrides, self.apply, self.root = file, dict(overrides), apply, root
        self.folder = file.parent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0  # valid reloads applied
        self.rejections = 0

    def forget(self) -> None:
        """Clear a recorded rejection (the config in force is the file's)."""
        _save_reload_error(self.root, None)

    def start(self) -> None:
        """Watch in a daemon thread (a stuck watcher must never hold the process at exit)."""
        self._thread = threading.Thread(target=self._watch, name="config-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        from watchfiles import watch

        log.info("watching %s for changes", self.folder)
        try:
            for changes in watch(
                self.folder,
                stop_event=self._stop,
                debounce=DEBOUNCE_MS,
                rust_timeout=1000,
                yield_on_timeout=False,
            ):
                files = sorted({Path(p).name for _, p in changes if not _ignored(p)})
                if files:
                    self.reload(files)
        except Exception:  # the service keeps running with the config it has
            log.exception("watching %s failed; config edits now need a restart", self.folder)

    def reload(self, files: list[str] | None = None) -> bool:
        """Load, validate and apply the config now; True when applied."""
        what = ", ".join(files) if files else str(self.file.name)
        try:
            config = load_config(self.file, overrides=self.overrides)
            for check in RELOAD_CHECKS:
                check(config)
        except ConfigError as exc:
            self.rejections += 1
            for p in exc.problems:
                log.error("config edit rejected, the previous config keeps running: %s", p)
            self._remember(exc)
            return False
        try:
            self.apply(config)
        except SyndicatorError as exc:
            self.rejections += 1
            log.error("config edit could not be applied, the previous config keeps running: %s", exc)
            self._remember(ConfigError(str(exc), file=self.file, hint=exc.hint))
            return False
        self.reloads += 1
        _save_reload_error(self.root, None)
        log.info("config reloaded (%s changed)", what)
        return True

    def _remember(self, exc: ConfigError) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "error": str(exc),
                  "problems": problems_of(exc)}  # fmt: skip
        _save_reload_error(self.root, record)
