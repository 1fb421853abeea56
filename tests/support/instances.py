"""Temp instances with feed and web sources pointing at the local upstream server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syndicator.config import load_config
from syndicator.pipeline import Context, open_context

# Small limits so misbehaving servers cost seconds, never minutes; the read timeout stays well above what a
# loaded machine takes to answer from 127.0.0.1 (a slow reply is upstream.HANGS, far above it).
FAST_HTTP = """
[http]
connect_timeout = "2s"
read_timeout = "2s"
retries = 1
backoff = "0.01s"
max_wait = "1s"
max_bytes = 1000000
"""


class Clock:
    """A clock the test moves: backoff and next-poll times without waiting."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


def source_toml(name: str, kind: str, url: str, **options: object) -> str:
    """A [[source]] table."""
    lines = ["", "[[source]]", f'name = "{name}"', f'kind = "{kind}"', f'url = "{url}"', 'every = "1m"']
    for key, value in options.items():
        if isinstance(value, dict):
            inner = ", ".join(f'{k} = "{v}"' for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        elif isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def open_instance(
    make_instance: Callable[..., Path], sources: str, clock: Clock, **config: object
) -> Context:
    """An instance (pseudo engine, the fixture folder source too) with these extra sources; its Context."""
    config.setdefault("engine", "pseudo")
    config.setdefault("targets", ("fr",))
    root = make_instance(extra=FAST_HTTP + sources, **config)
    return open_context(load_config(root / "config" / "syndicator.toml"), clock=clock)
