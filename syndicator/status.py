"""What an instance holds and what is wrong with it, for `syndicator status` and `models list`."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from syndicator.config import Config, format_duration, last_reload_error
from syndicator.errors import SyndicatorError
from syndicator.localize import Catalogs
from syndicator.models import NO_MODEL, PENDING, TRANSLATION_STATUSES
from syndicator.store import Store, utcnow
from syndicator.translate import EngineOptions, corrections, install_advice, no_model_reason, shared_engine

HISTORY_DAYS = 14  # days the status page charts


def coverage(config: Config) -> list[dict[str, str]]:
    """For each configured target: which engine, and whether a model covers it directly, by pivot, or not."""
    options = EngineOptions.of(config)
    rows = []
    for target in config.languages.targets:
        name = config.translation.engine_for(target)
        try:
            # The process's shared engine: the service's own when /status renders inside `syndicator run`.
            pair = shared_engine(name, options).pair(config.languages.source, target)
        except SyndicatorError as exc:
            pair, covered = None, f"unusable: {exc}"
        else:
            covered = "missing" if pair is None else f"through {pair.pivot}" if pair.pivot else "direct"
        row = {"source": config.languages.source, "target": target, "engine": name, "covered": covered,
               "model": getattr(pair, "model_id", ""), "hint": "", "elsewhere": ""}  # fmt: skip
        if covered == "missing":
            other = _installed_elsewhere(options, name, config.languages.source, target)
            if other:  # what `status` adds to the no-model reason, too
                row["elsewhere"] = (
                    f'or use the {other} pair installed here: [translation.engines] {target} = "{other}"'
                )
            row["hint"] = "; ".join(
                h for h in (install_advice(name, config.languages.source, target), row["elsewhere"]) if h
            )
        rows.append(row)
    return rows


def _installed_elsewhere(options: EngineOptions, engine: str, source: str, target: str) -> str:
    """The other real engine that has source → target installed, if any: a new instance is set to Argos,
    while the machine may have the Apertium pair already (a dead end otherwise: the language only waits)."""
    for other in ("apertium", "argos"):
        if other == engine:
            continue
        try:
            if shared_engine(other, options).pair(source, target) is not None:
                return other
        except SyndicatorError:
            continue  # that engine is not usable here (Apertium not installed): nothing to offer
    return ""


def _reasons(
    config: Config, lang: str, errors: list[tuple[str, str, int]], model: dict[str, str]
) -> list[str]:
    """The most common reasons a language's translations are unfinished. A no-model reason was recorded
    under the config of its time: it is said again for the engine configured now (a language switched from
    Apertium to Argos must not keep Apertium's advice), or dropped when a model covers the pair now."""
    covered = model.get("covered", "")
    if not covered:  # not a configured target (an article in another language into the site's): as recorded
        return [f"{status} ({n} article(s)): {err}" for status, err, n in errors]
    lines = [f"{status} ({n} article(s)): {err}" for status, err, n in errors if status != NO_MODEL]
    waiting = sum(n for status, _, n in errors if status == NO_MODEL)
    if waiting:
        if covered == "missing":
            t = config.translation
            reason = no_model_reason(t.engine_for(lang), config.languages.source, lang, t.pivot)
            if model["elsewhere"]:
                reason += f"; {model['elsewhere']}"
        elif covered.startswith("unusable"):
            reason = covered
        else:
            reason = f"a model covers it now ({covered}): they are queued again on the next cycle"
        lines.append(f"{NO_MODEL} ({waiting} article(s)): {reason}")
    return lines


def config_warnings(config: Config) -> list[str]:
    """What a valid config allows but production should not run with (`check`, start-up and `status` say it)."""
    t = config.translation
    pseudo = [lang for lang in config.languages.targets if t.engines.get(lang, t.engine) == "pseudo"]
    warnings = apertium_warnings(config) + catalog_warnings(config)
    if not pseudo:
        return warnings
    where = "translation.engine" if t.engine == "pseudo" else "translation.engines"
    return [
        f'{where} = "pseudo" for {", ".join(pseudo)}: those feeds get "[{pseudo[0]}] …" markers, not '
        'translations (a test double and a layout preview); use "argos" or "apertium" in production',
        *warnings,
    ]


def apertium_warnings(config: Config) -> list[str]:
    """One line per language set to Apertium that no installed mode covers: valid, but its articles would
    only wait for a model."""
    t, source = config.translation, config.languages.source
    targets = [lang for lang in config.languages.targets if t.engine_for(lang) == "apertium"]
    if not targets:
        return []
    from syndicator.translate.apertium import install_hint

    engine = shared_engine("apertium", EngineOptions.of(config))
    return [
        f'{_engine_key(t.engines, lang)}: {lang} is set to "apertium", but no installed Apertium mode '
        f"translates {source} → {lang}; {install_hint(source, lang)}"
        for lang in targets
        if engine.pair(source, lang) is None
    ]


def _engine_key(engines: Mapping[str, str], lang: str) -> str:
    """The setting that chose a language's engine, for messages."""
    return "translation.engines" if lang in engines else "translation.engine"


def catalog_warnings(config: Config) -> list[str]:
    """One line per configured language that no interface catalog serves (its feeds would mix languages)."""
    missing = Catalogs(config.publish.locales_dir).missing(config.languages.all)
    return [
        f"no interface catalog for {code}: its feed titles and notices would be in English; add "
        f"{config.publish.locales_dir / code / 'LC_MESSAGES' / 'syndicator.po'} (see locales/README.md)"
        for code in missing
    ]


def stopped_partners(config: Config, store: Store) -> list[dict[str, Any]]:
    """Partners that stopped pulling their feeds: name, last pull, expected interval.

    A partner counts as stopped after serve.stale_after without a pull (the same rule as `syndicator partners`).
    """
    from syndicator.partner_report import partner_report
    from syndicator.partners import load_partners

    try:
        names = [p.name for p in load_partners(config.partners_file, config.languages.all).partners]
    except SyndicatorError:
        return []  # `syndicator check` and the log name the broken partners file
    if not names:
        return []
    rows = partner_report([], store.last_pulls(), names, 1, config.serve.stale_after, utcnow())
    return [{"name": r["partner"], "last_pull": r["last_pull"]} for r in rows if r["stopped"]]


def service_state(record: tuple[str, datetime] | None) -> str:
    """Whether the service runs: it records its pid at start and clears it on a clean stop."""
    if record is None:
        return "not running"
    try:
        info = json.loads(record[0])
        pid, host = int(info["pid"]), str(info["host"])
    except (ValueError, KeyError, TypeError):
        return "unknown"
    since = f"since {record[1]:%Y-%m-%d %H:%M} UTC"
    if host != socket.gethostname():
        return f"running on {host} (pid {pid}) {since}"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"not running (pid {pid}, started {since.removeprefix('since ')}, ended without a clean stop)"
    except PermissionError:
        pass  # it exists, as another user
    return f"running (pid {pid}) {since}"


def collect_history(store: Store, days: int = HISTORY_DAYS) -> dict[str, Any]:
    """What the status page charts: articles and translations per day per language, backlog samples."""
    today = utcnow().date()
    since = datetime.combine(today - timedelta(days=days - 1), time(0), tzinfo=UTC)
    return {
        "days": [str(today - timedelta(days=n)) for n in range(days - 1, -1, -1)],
        "articles_per_day": store.articles_per_day(since),
        "translations_per_day": store.translations_per_day(since),
        "backlog": store.backlog_history(since),
    }


def collect_status(config: Config, *, history: bool = False) -> dict[str, Any]:
    """Everything `syndicator status` shows, as plain data (plus the charts' data with history=True)."""
    store = Store(config.store.url)
    try:
        states = store.source_states()
        counts = store.counts()
        unknown = store.unknown_ratios()
        service = store.states()
        sources = []
        for cfg in config.sources:
            state = states.get(cfg.name, {})
            scheduled = service.get(f"schedule:{cfg.name}")
            where = {"url": str(cfg.options["url"])} if "url" in cfg.options else {}
            sources.append({"name": cfg.name, "kind": cfg.kind, "every": format_duration(cfg.every), "enabled": cfg.enabled,
                            "scheduled": scheduled[0] if scheduled else "", **where, **state})  # fmt: skip
        models = coverage(config)
        by_target = {m["target"]: m for m in models}
        languages = []
        for lang in config.languages.all:
            row: dict[str, Any] = {"language": lang, "original": lang == config.languages.source}
            row.update({s: counts.get(lang, {}).get(s, 0) for s in TRANSLATION_STATUSES})
            row["backlog"] = row.get(PENDING, 0)
            if lang in unknown:
                mean, top = unknown[lang]
                row["unknown_ratio"] = {"mean": round(mean, 3), "max": round(top, 3)}
            published = service.get(f"publish:{lang}")
            row["last_publish"] = published[1] if published else None
            publish_failed = service.get(f"publish_error:{lang}")
            row["publish_error"] = publish_failed[0] if publish_failed else ""
            row["errors"] = _reasons(config, lang, store.errors(lang, 3), by_target.get(lang, {}))
            languages.append(row)
        failures: dict[str, list[Any]] = {}
        for tr in store.failures():
            failures.setdefault(tr.language, []).append(tr)
        for row in languages:
            failed = failures.get(row["language"], [])
            retries = [tr.next_retry for tr in failed if tr.next_retry is not None]
            row["attempts"] = max((tr.attempts for tr in failed), default=0)
            row["next_retry"] = min(retries) if retries else None
            # Refused by the quality gate: retried only when what they depend on changes (translate/quality.py).
            row["refused"] = sum(1 for tr in failed if tr.depends)
        stale, broken = corrections.inspect(store, config.translation.corrections_dir, config.languages.all)
        reviewed = store.corrections()
        translation_memory = {
            pair: {"sentences": size, "hits": hits, "misses": misses,
                   "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None}
            for pair, (size, hits, misses) in store.translation_memory_stats().items()
        }  # fmt: skip

        return {
            "config": str(config.file),
            "warnings": config_warnings(config),
            "service": service_state(service.get("service")),
            "articles": store.article_count(),
            "sources": sources,
            "languages": languages,
            "models": models,
            "models_missing": [m["target"] for m in models if m["covered"] == "missing"],
            "catalogs_missing": Catalogs(config.publish.locales_dir).missing(config.languages.all),
            "partners_stopped": stopped_partners(config, store),
            "reload_error": last_reload_error(config.root),
            "translation_memory": translation_memory,
            **({"history": collect_history(store)} if history else {}),
            "corrections": {
                "folder": str(config.translation.corrections_dir),
                "applied": sum(1 for *_, is_stale in reviewed if not is_stale),
                "stale": stale,
                "problems": [f"{p.origin}: {p.message}" for p in broken],
            },
        }
    finally:
        store.close()


def format_reload_error(err: dict[str, Any]) -> list[str]:
    """A rejected config edit as lines for a terminal."""
    lines = [f"LAST CONFIG EDIT REJECTED ({err['time']}); the service kept its previous config:"]
    return lines + _problem_lines(
        err["problems"] or [{"file": "", "line": None, "key": "", "message": err["error"], "hint": ""}]
    )


def _problem_lines(problems: list[dict[str, Any]]) -> list[str]:
    lines = []
    for p in problems:
        where = ":".join(str(x) for x in (p["file"], p["line"]) if x)
        hint = f" (hint: {p['hint']})" if p["hint"] else ""
        lines.append(
            f"  {where + ': ' if where else ''}{p['key'] + ': ' if p['key'] else ''}{p['message']}{hint}"
        )
    return lines


def _config_lines(data: dict[str, Any]) -> list[str]:
    """What is wrong with the config, first: the edit the service rejected, and the file on disk when it is
    invalid (then the rest of the status is read with the config the running service kept)."""
    rejected, broken = data.get("reload_error"), data.get("config_error")
    lines = format_reload_error(rejected) if rejected else []
    if broken and (not rejected or broken["problems"] != rejected["problems"]):
        head = (
            "the file on disk now"
            if rejected
            else "CONFIG FILE ON DISK IS INVALID (the service has not read it yet)"
        )
        lines += [f"{head}; fix it before the next start:", *_problem_lines(broken["problems"])]
    elif broken:
        lines.append("  fix it before the next start: the service would not start with it")
    config = f"config: {data['config']}"
    if broken:
        config += " (below: the instance under the config the running service kept, not the file on disk)"
    return [*lines, config]


def _health(s: dict[str, Any]) -> str:
    if not s.get("last_poll"):
        return "never polled"
    if s.get("last_error"):
        return f"FAILING ({s['failures']} time(s) in a row): {s['last_error']}"
    if problems := s.get("problems"):
        # Polled, but not everything it holds could be read: not "ok" while problems are listed below it.
        return f"{len(problems)} item(s) with problems (below), last poll {s['last_poll']:%Y-%m-%d %H:%M} UTC"
    return f"ok, last poll {s['last_poll']:%Y-%m-%d %H:%M} UTC"


def format_status(data: dict[str, Any]) -> str:
    """The status as text for a terminal."""
    lines = [*_config_lines(data), f"service: {data['service']}"]
    lines += [f"WARNING: {w}" for w in data.get("warnings", [])]
    lines += [f"articles: {data['articles']}", "sources:"]
    for s in data["sources"]:
        lines.append(f"  {s['name']} ({s['kind']}, every {s['every']}): {_health(s)}")
        if s.get("url"):
            lines.append(f"    url: {s['url']}")
        if s.get("last_error"):
            when = f"{s['last_success']:%Y-%m-%d %H:%M} UTC" if s.get("last_success") else "never"
            retry = f"{s['next_poll']:%Y-%m-%d %H:%M} UTC" if s.get("next_poll") else "next scheduled poll"
            lines.append(f"    last success: {when}; next try: {retry}")
        if s.get("scheduled"):
            lines.append(f"    scheduled: {s['scheduled']}")
        for problem in s.get("problems", [])[:10]:
            lines.append(f"    problem: {problem}")
    lines.append("languages:")
    for row in data["languages"]:
        last = (
            f"; last publish {row['last_publish']:%Y-%m-%d %H:%M} UTC"
            if row["last_publish"]
            else "; never published"
        )
        if row["original"]:
            lines.append(f"  {row['language']}: original language{last}")
        if row["publish_error"]:
            lines.append(f"    PUBLISHING FAILS: {row['publish_error']}")
        if row["original"]:
            continue
        lines.append(
            f"  {row['language']}: {row['done']} done, {row['pending']} pending (backlog), {row['failed']} failed, "
            f"{row['no-model']} without a model{last}"
        )
        if ratio := row.get("unknown_ratio"):
            lines.append(
                f"    words the engine marked unknown: {ratio['mean']:.1%} on average, {ratio['max']:.1%} at most"
            )
        lines += [f"    {e}" for e in row["errors"]]
        if row.get("refused"):
            lines.append(
                f"    {row['refused']} refused by the quality gate (reasons above): tried again when the engine, "
                "model, glossary or gate settings change, or the article does"
            )
        if row["failed"] and row.get("next_retry"):
            lines.append(
                f"    failed ones are retried from {row['next_retry']:%Y-%m-%d %H:%M} UTC "
                f"(up to {row['attempts']} attempt(s) so far)"
            )
    lines.append("models:")
    for m in data["models"]:
        flag = f"  <-- {m['hint']}" if m.get("hint") else ""
        lines.append(f"  {m['source']} → {m['target']} ({m['engine']}): {m['covered']}{flag}")
    if data["models_missing"]:
        lines.append(f"models missing for: {', '.join(data['models_missing'])}")
    for p in data["partners_stopped"]:
        lines.append(f"partner stopped pulling: {p.get('name')} (last pull {p.get('last_pull')})")
    fixes = data["corrections"]
    lines.append(f"corrections ({fixes['folder']}): {fixes['applied']} in place")
    lines += [
        f"  STALE (the article changed; machine translation used until you update it): {p}"
        for p in fixes["stale"]
    ]
    lines += [f"  problem: {p}" for p in fixes["problems"]]
    if data["translation_memory"]:
        lines.append("translation memory:")
        for pair, m in data["translation_memory"].items():
            rate = "n/a" if m["hit_rate"] is None else f"{m['hit_rate']:.0%}"
            lines.append(
                f"  {pair}: {m['sentences']} sentences, hit rate {rate} ({m['hits']} hits, {m['misses']} misses)"
            )
    return "\n".join(lines)
