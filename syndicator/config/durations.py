"""Durations in settings: "30s", "5m", "2h", "1d", "1h30m" or "0.5s", both ways."""

from __future__ import annotations

import re
from datetime import timedelta

# Seconds may have a fraction ("0.5s"): timeouts and retry pauses below a second are real settings.
_DURATION = re.compile(r"(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s)?")


def parse_duration(text: str) -> timedelta:
    """Parse "30s", "5m", "2h", "1d", "0.5s" or combinations such as "1h30m"; raise ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (write e.g. 30s, 5m, 2h, 1d or 1h30m)")
    days, hours, minutes = (int(g or 0) for g in match.groups()[:3])
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=float(match.group(4) or 0))


def format_duration(value: timedelta) -> str:
    """The shortest parse_duration() spelling of a duration, e.g. "1h30m" or "0.25s"."""
    micros = value // timedelta(microseconds=1)
    seconds, fraction = divmod(micros, 1_000_000)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    if fraction:
        out += f"{seconds}.{fraction:06d}".rstrip("0") + "s"
    elif seconds:
        out += f"{seconds}s"
    return out or "0s"
