"""Live reload: watch config/, validate an edit, and put it in force or reject it (the old config keeps running).

The store keeps the last rejection (`syndicator status` shows it) until a valid edit clears it.
Parts of the Context that other modules derive from config files (glossary, partners…) register a hook in
RELOAD_HOOKS; each hook gets the new Context and the previous Config and may set what it owns.
"""

from __future__ import annotations

import json
import logging
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
from syndicator.store import Store

log = logging.getLogger(__name__)

RELOAD_ERROR = "reload_error"  # store state key: JSON of the last rejected edit, "" when the config is good
DEBOUNCE_MS = 500  # editors save in several steps (temp file, rename, chmod): one reload for all of them

ReloadHook = Callable[[Context, Config], None]
RELOAD_HOOKS: list[ReloadHook] = []


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


def last_reload_error(store: Store) -> dict[str, Any] | None:
    """The last rejected config edit, or None when the running config is the file's."""
    found = store.states(RELOAD_ERROR).get(RELOAD_ERROR)
    if found is None:
        return None
    data: dict[str, Any] = json.loads(found[0])
    return data


class Reloader:
    """Watches the config folder in a thread; valid edits go to `apply`, invalid ones are logged and kept."""

    def __init__(
        self, file: Path, overrides: Mapping[str, str], apply: Callable[[Config], None], store: Store
    ) -> None:
        self.file, self.overrides, self.apply, self.store = file, dict(overrides), apply, store
        self.folder = file.parent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0  # valid reloads applied
        self.rejections = 0

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
        self.store.set_state(RELOAD_ERROR, "")
        log.info("config reloaded (%s changed)", what)
        return True

    def _remember(self, exc: ConfigError) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "error": str(exc),
                  "problems": problems_of(exc)}  # fmt: skip
        self.store.set_state(RELOAD_ERROR, json.dumps(record, ensure_ascii=False))
