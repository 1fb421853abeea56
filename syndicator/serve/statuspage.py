"""The status page: `syndicator status` as one HTML page with small inline SVG charts (no scripts).

A pure function of the data from `status.collect_status(config, history=True)`, rendered through the
templates (syndicator/markup.py: templates/status.html and chart.svg); the built-in server serves it.
Its one <style> element (`css()`) is allowed by the server's Content-Security-Policy by its hash.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syndicator.markup import render

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
WIDTH, HEIGHT, PAD = 560, 160, 30
MAX_POINTS = 240  # backlog samples drawn per language: enough for the shape, small page


@functools.cache
def css() -> str:
    """The text of the page's one <style> element (serve/headers.py allows exactly it, by hash)."""
    return render("status.css")


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return str(value) if value else "never"


def _legend_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Line:
    """One series of a chart, in SVG coordinates."""

    name: str
    color: str
    x: int  # where its legend goes
    points: str = ""  # "x,y x,y …" for a polyline
    dot: tuple[str, str] | None = None  # a single sample: a circle
    last: str | None = None  # the latest value, for the legend


@dataclass(frozen=True)
class Chart:
    """What templates/chart.svg draws."""

    title: str
    top: str
    lines: tuple[Line, ...]
    first_label: str = ""
    last_label: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD
    bottom: int = HEIGHT - PAD
    right: int = WIDTH - PAD


def line_chart(title: str, labels: list[str], series: dict[str, list[float]]) -> Chart:
    """An SVG line chart: one line per series over shared x labels (first and last are written)."""
    top = max((v for values in series.values() for v in values), default=0) or 1
    n = max(len(labels), 2)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def xy(i: int, v: float) -> tuple[str, str]:
        return f"{PAD + inner_w * i / (n - 1):.1f}", f"{HEIGHT - PAD - inner_h * v / top:.1f}"

    lines = []
    for index, (name, values) in enumerate(sorted(series.items())):
        dot = xy(0, values[0]) if len(values) == 1 else None
        points = "" if dot else " ".join(",".join(xy(i, v)) for i, v in enumerate(values))
        lines.append(
            Line(name, _legend_color(index), PAD + 8 + 42 * index, points, dot,
                 f"{values[-1]:g}" if values else None)
        )  # fmt: skip
    return Chart(title, f"{top:g}", tuple(lines), labels[0] if labels else "", labels[-1] if labels else "")


def _per_day_series(days: list[str], per_day: dict[str, dict[str, int]]) -> dict[str, list[float]]:
    languages = sorted({lang for counts in per_day.values() for lang in counts})
    return {lang: [float(per_day.get(day, {}).get(lang, 0)) for day in days] for lang in languages}


def _unknown(ratio: dict[str, float] | None) -> str:
    """Words the engine marked unknown in done translations: mean and max ('' for engines that mark none)."""
    return f"{ratio['mean']:.1%} (max {ratio['max']:.1%})" if ratio else ""


def _backlog_series(samples: list[tuple[datetime, str, int]]) -> tuple[list[str], dict[str, list[float]]]:
    """Backlog per language at each sample time (carrying a language's last value forward)."""
    times = sorted({t for t, _, _ in samples})
    if len(times) > MAX_POINTS:
        step = len(times) / MAX_POINTS
        times = [times[int(i * step)] for i in range(MAX_POINTS)] + [times[-1]]
    keep = set(times)
    by_lang: dict[str, dict[datetime, int]] = {}
    for t, lang, pending in samples:
        by_lang.setdefault(lang, {})[t] = pending
    series: dict[str, list[float]] = {}
    for lang, points in by_lang.items():
        last, values = 0, []
        for t in sorted(set(points) | keep):
            last = points.get(t, last)
            if t in keep:
                values.append(float(last))
        series[lang] = values
    return [f"{t:%m-%d %H:%M}" for t in times], series


def render_status_page(data: dict[str, Any]) -> bytes:
    """The whole status page as UTF-8 HTML."""
    sources = [
        {
            "name": s["name"],
            "kind": s["kind"],
            "scheduled": s.get("scheduled") or "not scheduled",
            "last_error": s.get("last_error") or "",
            "failures": int(s.get("failures", 0)),
            "last_poll": _when(s["last_poll"]) if s.get("last_poll") else "",
            "problems": len(s.get("problems", [])),
        }
        for s in data.get("sources", [])
    ]
    languages = [
        {
            "language": lang["language"],
            "original": bool(lang.get("original")),
            "done": lang.get("done", 0),
            "backlog": int(lang.get("backlog", 0)),
            "failed": lang.get("failed", 0),
            "no_model": lang.get("no-model", 0),
            "unknown": _unknown(lang.get("unknown_ratio")),
            "last_publish": _when(lang.get("last_publish")),
            "publish_error": lang.get("publish_error") or "",
        }
        for lang in data.get("languages", [])
    ]
    reload_error = None
    if err := data.get("reload_error"):
        problems = [
            {key: p.get(key) or "" for key in ("file", "line", "key", "message", "hint")}
            for p in err.get("problems", [])
        ]
        reload_error = {"time": err.get("time", ""), "error": err.get("error", ""), "problems": problems}
    stopped = [{"name": p.get("name"), "last_pull": _when(p.get("last_pull"))}
               for p in data.get("partners_stopped") or []]  # fmt: skip
    server = None
    if raw := data.get("server"):  # this server process (what /healthz keeps to itself)
        server = {
            "last_publish": _when(raw.get("last_publish")),
            "last_error": raw.get("last_error") or "",
            "files": int(raw.get("files", 0)),
            "cache_mb": f"{int(raw.get('cache_bytes', 0)) / 1048576:.1f}",
            "partners_file_error": raw.get("partners_file_error") or "",
            "connections": int(raw.get("connections", 0)),
            "max_connections": int(raw.get("max_connections", 0)),
            "closed": [(k, int(v)) for k, v in sorted(raw.get("closed", {}).items())],
        }
    charts = []
    if history := data.get("history"):
        days = history["days"]
        charts.append(
            line_chart("Articles per day", days, _per_day_series(days, history["articles_per_day"]))
        )
        charts.append(
            line_chart("Translations per day", days, _per_day_series(days, history["translations_per_day"]))
        )
        charts.append(line_chart("Backlog (pending translations)", *_backlog_series(history["backlog"])))
    page = render(
        "status.html",
        service=str(data.get("service", "")),
        articles=int(data.get("articles", 0)),
        config=str(data.get("config", "")),
        reload_error=reload_error,
        sources=sources,
        languages=languages,
        models_missing=data.get("models_missing") or [],
        catalogs_missing=data.get("catalogs_missing") or [],
        partners_stopped=stopped,
        warnings=[str(w) for w in data.get("warnings", [])],
        server=server,
        charts=charts,
    )
    return page.encode("utf-8")
