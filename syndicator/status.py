"""What an instance holds and what is wrong with it, for `syndicator status` and `models list`."""

from __future__ import annotations

from typing import Any

from syndicator.config import Config
from syndicator.errors import SyndicatorError
from syndicator.models import TRANSLATION_STATUSES
from syndicator.store import Store
from syndicator.translate import EngineOptions, corrections, make_engine


def coverage(config: Config) -> list[dict[str, str]]:
    """For each configured target: which engine, and whether a model covers it directly, by pivot, or not."""
    t = config.translation
    engines: dict[str, Any] = {}
    rows = []
    for target in config.languages.targets:
        name = t.engines.get(target, t.engine)
        if name not in engines:
            options = EngineOptions(
                t.packages_dir, config.root / "data", t.beam_size, t.batch_size, t.threads, t.pivot
            )
            engines[name] = make_engine(name, options)
        try:
            pair = engines[name].pair(config.languages.source, target)
        except SyndicatorError as exc:
            pair, covered = None, f"unusable: {exc}"
        else:
            covered = "missing" if pair is None else f"through {pair.pivot}" if pair.pivot else "direct"
        rows.append({"source": config.languages.source, "target": target, "engine": name, "covered": covered,
                     "model": getattr(pair, "model_id", "")})  # fmt: skip
    return rows


def collect_status(config: Config) -> dict[str, Any]:
    """Everything `syndicator status` shows, as plain data."""
    store = Store(config.store.url)
    try:
        states = store.source_states()
        counts = store.counts()
        sources = []
        for cfg in config.sources:
            state = states.get(cfg.name, {})
            where = {"url": str(cfg.options["url"])} if "url" in cfg.options else {}
            sources.append({"name": cfg.name, "kind": cfg.kind, "every": str(cfg.every), **where, **state})
        languages = []
        for lang in config.languages.all:
            row: dict[str, Any] = {"language": lang, "original": lang == config.languages.source}
            row.update({s: counts.get(lang, {}).get(s, 0) for s in TRANSLATION_STATUSES})
            row["errors"] = [f"{status} ({n} article(s)): {err}" for status, err, n in store.errors(lang, 3)]
            languages.append(row)
        failures: dict[str, list[Any]] = {}
        for tr in store.failures():
            failures.setdefault(tr.language, []).append(tr)
        for row in languages:
            failed = failures.get(row["language"], [])
            retries = [tr.next_retry for tr in failed if tr.next_retry is not None]
            row["attempts"] = max((tr.attempts for tr in failed), default=0)
            row["next_retry"] = min(retries) if retries else None
        stale, broken = corrections.inspect(store, config.translation.corrections_dir, config.languages.all)
        reviewed = store.corrections()
        memory = {
            pair: {"sentences": size, "hits": hits, "misses": misses,
                   "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None}
            for pair, (size, hits, misses) in store.memory_stats().items()
        }  # fmt: skip
        return {
            "config": str(config.file),
            "articles": store.article_count(),
            "sources": sources,
            "languages": languages,
            "models": coverage(config),
            "memory": memory,
            "corrections": {
                "folder": str(config.translation.corrections_dir),
                "applied": sum(1 for *_, is_stale in reviewed if not is_stale),
                "stale": stale,
                "problems": [f"{p.origin}: {p.message}" for p in broken],
            },
        }
    finally:
        store.close()


def _health(s: dict[str, Any]) -> str:
    if not s.get("last_poll"):
        return "never polled"
    if s.get("last_error"):
        return f"FAILING ({s['failures']} time(s) in a row): {s['last_error']}"
    return f"ok, last poll {s['last_poll']:%Y-%m-%d %H:%M} UTC"


def format_status(data: dict[str, Any]) -> str:
    """The status as text for a terminal."""
    lines = [f"config: {data['config']}", f"articles: {data['articles']}", "sources:"]
    for s in data["sources"]:
        lines.append(f"  {s['name']} ({s['kind']}, every {s['every']}): {_health(s)}")
        if s.get("url"):
            lines.append(f"    url: {s['url']}")
        if s.get("last_error"):
            when = f"{s['last_success']:%Y-%m-%d %H:%M} UTC" if s.get("last_success") else "never"
            retry = f"{s['next_poll']:%Y-%m-%d %H:%M} UTC" if s.get("next_poll") else "next scheduled poll"
            lines.append(f"    last success: {when}; next try: {retry}")
        for problem in s.get("problems", [])[:10]:
            lines.append(f"    problem: {problem}")
    lines.append("languages:")
    for row in data["languages"]:
        if row["original"]:
            lines.append(f"  {row['language']}: original language")
            continue
        lines.append(
            f"  {row['language']}: {row['done']} done, {row['pending']} pending, {row['failed']} failed, "
            f"{row['no-model']} without a model"
        )
        lines += [f"    {e}" for e in row["errors"]]
        if row["failed"] and row.get("next_retry"):
            lines.append(
                f"    failed ones are retried from {row['next_retry']:%Y-%m-%d %H:%M} UTC "
                f"(up to {row['attempts']} attempt(s) so far)"
            )
    lines.append("models:")
    for m in data["models"]:
        flag = (
            "  <-- install a model: syndicator models install FILE.argosmodel (or --online LANG)"
            if m["covered"] == "missing"
            else ""
        )
        lines.append(f"  {m['source']} → {m['target']} ({m['engine']}): {m['covered']}{flag}")
    fixes = data["corrections"]
    lines.append(f"corrections ({fixes['folder']}): {fixes['applied']} in place")
    lines += [
        f"  STALE (the article changed; machine translation used until you update it): {p}"
        for p in fixes["stale"]
    ]
    lines += [f"  problem: {p}" for p in fixes["problems"]]
    if data["memory"]:
        lines.append("translation memory:")
        for pair, m in data["memory"].items():
            rate = "n/a" if m["hit_rate"] is None else f"{m['hit_rate']:.0%}"
            lines.append(
                f"  {pair}: {m['sentences']} sentences, hit rate {rate} ({m['hits']} hits, {m['misses']} misses)"
            )
    return "\n".join(lines)
