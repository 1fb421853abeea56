"""The status page: `syndicator status` as one HTML page with small inline SVG charts (no scripts).

A pure function of the data from `status.collect_status(config, history=True)`; the built-in server serves it.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
WIDTH, HEIGHT, PAD = 560, 160, 30
MAX_POINTS = 240  # backlog samples drawn per language: enough for the shape, small page

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.bad{color:#b00;font-weight:bold}.ok{color:#070}figure{display:inline-block;margin:0 1.5em 1em 0}
figcaption{font-weight:bold}svg text{font-size:10px}
"""


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return escape(str(value)) if value else "never"


def _legend_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def line_chart(title: str, labels: list[str], series: dict[str, list[float]]) -> str:
    """An SVG line chart: one line per series over shared x labels (first and last are written)."""
    top = max((v for values in series.values() for v in values), default=0) or 1
    n = max(len(labels), 2)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def xy(i: int, v: float) -> str:
        return f"{PAD + inner_w * i / (n - 1):.1f},{HEIGHT - PAD - inner_h * v / top:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
        f'<text x="2" y="{PAD + 4}">{top:g}</text><text x="2" y="{HEIGHT - PAD}">0</text>',
    ]
    if labels:
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}">{escape(labels[0])}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" text-anchor="end">{escape(labels[-1])}</text>'
        )
    for index, (name, values) in enumerate(sorted(series.items())):
        color = _legend_color(index)
        points = " ".join(xy(i, v) for i, v in enumerate(values))
        if len(values) == 1:
            parts.append(f'<circle cx="{xy(0, values[0]).split(",")[0]}" cy="{xy(0, values[0]).split(",")[1]}" '
                         f'r="2" fill="{color}"/>')  # fmt: skip
        else:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        parts.append(
            f'<text x="{PAD + 8 + 42 * index}" y="{PAD - 10}" fill="{color}">{escape(name)} {values[-1]:g}</text>'
            if values
            else ""
        )
    if not series:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data yet</text>')
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _per_day_series(days: list[str], per_day: dict[str, dict[str, int]]) -> dict[str, list[float]]:
    languages = sorted({lang for counts in per_day.values() for lang in counts})
    return {lang: [float(per_day.get(day, {}).get(lang, 0)) for day in days] for lang in languages}


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


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_status_page(data: dict[str, Any]) -> bytes:
    """The whole status page as UTF-8 HTML."""
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'><title>Syndicator status</title>",
        f"<style>{CSS}</style></head><body><h1>Syndicator status</h1>",
        f"<p>Service: {escape(str(data.get('service', '')))} &middot; {int(data.get('articles', 0))} article(s)"
        f" &middot; config {escape(str(data.get('config', '')))}</p>",
    ]
    out += [f"<p class='bad'>Warning: {escape(str(w))}</p>" for w in data.get("warnings", [])]
    if err := data.get("reload_error"):
        items = (
            "".join(
                f"<li>{escape(str(p.get('file') or ''))}{':' + str(p['line']) if p.get('line') else ''} "
                f"<code>{escape(str(p.get('key') or ''))}</code> {escape(str(p.get('message') or ''))}"
                f"{' (hint: ' + escape(str(p['hint'])) + ')' if p.get('hint') else ''}</li>"
                for p in err.get("problems", [])
            )
            or f"<li>{escape(str(err.get('error', '')))}</li>"
        )
        out.append(
            f"<p class='bad'>Last config edit rejected ({escape(str(err.get('time', '')))}); "
            f"the previous config is running:</p><ul>{items}</ul>"
        )
    rows = []
    for s in data.get("sources", []):
        if s.get("last_error"):
            health = (
                f"<span class='bad'>failing ({int(s.get('failures', 0))}x): {escape(s['last_error'])}</span>"
            )
        elif s.get("last_poll"):
            health = f"<span class='ok'>ok</span>, last poll {_when(s['last_poll'])}"
        else:
            health = "never polled"
        problems = len(s.get("problems", []))
        rows.append([escape(s["name"]), escape(s["kind"]), escape(s.get("scheduled") or "not scheduled"),
                     health, str(problems)])  # fmt: skip
    out.append("<h2>Sources</h2>" + _table(["source", "kind", "schedule", "health", "problems"], rows))
    rows = []
    for lang in data.get("languages", []):
        backlog = int(lang.get("backlog", 0))
        rows.append([
            escape(lang["language"]) + (" (original)" if lang.get("original") else ""),
            str(lang.get("done", 0)),
            f"<span class='bad'>{backlog}</span>" if backlog else "0",
            str(lang.get("failed", 0)),
            str(lang.get("no-model", 0)),
            _when(lang.get("last_publish"))
            + (f" <span class='bad'>failing: {escape(lang['publish_error'])}</span>" if lang.get("publish_error") else ""),
        ])  # fmt: skip
    out.append(
        "<h2>Languages</h2>"
        + _table(["language", "done", "backlog", "failed", "without a model", "last publish"], rows)
    )
    if missing := data.get("models_missing"):
        out.append(
            f"<p class='bad'>Models missing for: {escape(', '.join(missing))} "
            "(install with <code>syndicator models install FILE.argosmodel</code>)</p>"
        )
    if stopped := data.get("partners_stopped"):
        items = "".join(
            f"<li>{escape(str(p.get('name')))}: last pull {_when(p.get('last_pull'))}</li>" for p in stopped
        )
        out.append(f"<p class='bad'>Partners that stopped pulling:</p><ul>{items}</ul>")
    if server := data.get("server"):  # this server process (what /healthz keeps to itself)
        closed = ", ".join(f"{escape(k)} {int(v)}" for k, v in sorted(server.get("closed", {}).items()))
        out.append(
            "<h2>Server</h2>"
            + _table(
                ["last publish here", "publish error", "files served", "partners file", "connections", "closed"],
                [[
                    _when(server.get("last_publish")),
                    f"<span class='bad'>{escape(server['last_error'])}</span>" if server.get("last_error") else "none",
                    str(int(server.get("files", 0))),
                    f"<span class='bad'>{escape(server['partners_file_error'])}</span>"
                    if server.get("partners_file_error") else "ok",
                    f"{int(server.get('connections', 0))} of at most {int(server.get('max_connections', 0))}",
                    closed or "none",
                ]],
            )
        )  # fmt: skip
    history = data.get("history")
    if history:
        days = history["days"]
        out.append("<h2>History</h2>")
        out.append(line_chart("Articles per day", days, _per_day_series(days, history["articles_per_day"])))
        out.append(
            line_chart("Translations per day", days, _per_day_series(days, history["translations_per_day"]))
        )
        labels, series = _backlog_series(history["backlog"])
        out.append(line_chart("Backlog (pending translations)", labels, series))
    out.append("</body></html>")
    return "\n".join(out).encode("utf-8")
