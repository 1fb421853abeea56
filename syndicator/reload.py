"""Live reload: watch config/, validate an edit, and put it in force or reject it (the old config keeps running).

The last rejection is kept in data/reload-error.json (syndicator/config/rejection.py; `syndicator status`
shows it) until a valid edit clears it. Applying a valid config is the caller's (the service's `apply`);
parts of the pipeline Context derived from config files hook in through
syndicator.pipeline.context.RELOAD_HOOKS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from syndicator.config import Config, load_config, problems_of, save_reload_error
from syndicator.errors import ConfigError, SyndicatorError

log = logging.getLogger(__name__)

DEBOUNCE_MS = 500  # editors save in several steps (temp file, rename, chmod): one reload for all of them


def _check_partners(config: Config) -> None:
    from syndicator.partners import load_partners

    load_partners(config.partners_file, config.languages.all)


# Other files in config/ validated with each reload: a ConfigError rejects the edit like a bad main file.
RELOAD_CHECKS: list[Callable[[Config], None]] = [_check_partners]


def _ignored(path: str) -> bool:
    """Editor droppings (swap, backup, hidden temp files) are not config."""
    name = Path(path).name
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp"))


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
        save_reload_error(self.root, None)

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
        save_reload_error(self.root, None)
        log.info("config reloaded (%s changed)", what)
        return True

    def _remember(self, exc: ConfigError) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "error": str(exc),
                  "problems": problems_of(exc)}  # fmt: skip
        save_reload_error(self.root, record)
