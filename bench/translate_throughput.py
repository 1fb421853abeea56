"""Translation benchmark: pipeline vs argostranslate per sentence vs raw CTranslate2, update cost, memory.

Every contender translates the same sentences with the same model and beam size, in its own subprocess (so
argostranslate reads its settings from the environment at import, as it does in production). The workers load
their model once and then take turns, one timed pass each per round, so all contenders see the same machine
load; ratios are computed per round and summarized. See bench/README.md for the commands and results.

    .venv/bin/python bench/translate_throughput.py            # base-sized model, ~200 sentences, 3 rounds
    .venv/bin/python bench/translate_throughput.py --quick    # tiny model, a few sentences (used by a test)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import newsgen  # noqa: E402

BASE = {"layers": 6, "d_model": 512, "heads": 8, "ffn": 2048, "vocab_size": 8000}
TINY: dict[str, int] = {}  # tinymodel's defaults: 2 layers, d_model 64
TARGETS = ("fr", "es", "de", "ru", "ar")  # the five languages of the update and memory tests
CONTENDERS = ("argos", "raw", "pipeline")
MAX_DECODING_LENGTH = 256  # CTranslate2's default, which argostranslate uses; the same for everyone


# --- models -------------------------------------------------------------------------------------------


def build_models(cache: Path, size: dict[str, int], targets: tuple[str, ...]) -> dict[str, Path]:
    """Extracted package folders en→target, built once per size and cached."""
    from tests.support.tinymodel import FORMAT_VERSION, build_package, extract_package, package_dir_name

    tag = "-".join(f"{k}{v}" for k, v in sorted(size.items())) or "tiny"
    out = {}
    for seed, target in enumerate(targets):
        folder = cache / f"v{FORMAT_VERSION}-{tag}-seed{seed}"
        pkg = folder / "pkgs" / package_dir_name("en", target)
        if not pkg.is_dir():
            zip_path = build_package(folder / "zips", "en", target, seed=seed, **size)
            extract_package(zip_path, folder / "pkgs")
        out[target] = pkg
    return out


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- workers (one per subprocess) ---------------------------------------------------------------------


def _sentences(spec: dict[str, Any]) -> tuple[list[newsgen.NewsItem], list[str]]:
    items = newsgen.articles(newsgen.sentences(spec["sentences"]))
    return items, [s for item in items for s in item.all_sentences()]


class ArgosWorker:
    """argostranslate's public API, one translate() call per sentence, its defaults (beam size from env)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import argostranslate.translate

        self.translate = argostranslate.translate.translate
        _, self.sentences = _sentences(spec)
        self.translate("Warm up the model.", "en", spec["target"])
        self.target = spec["target"]

    def run(self) -> list[str]:
        return [self.translate(s, "en", self.target) for s in self.sentences]


class RawWorker:
    """The ceiling: one CTranslate2 translate_batch over pre-tokenized sentences, decoding excluded."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import ctranslate2
        import sentencepiece

        pkg = Path(spec["package"])
        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(pkg / "sentencepiece.model"))
        _, sentences = _sentences(spec)
        self.tokens = [self.sp.encode(s, out_type=str) for s in sentences]
        self.spec = spec
        self.translator = ctranslate2.Translator(
            str(pkg / "model"),
            device="cpu",
            intra_threads=spec["intra_threads"],
            inter_threads=spec["inter_threads"],
        )
        self.translator.translate_batch(self.tokens[:2], beam_size=spec["beam"])
        self.results: Any = None

    def run(self) -> None:
        self.results = self.translator.translate_batch(
            self.tokens,
            beam_size=self.spec["beam"],
            max_batch_size=self.spec["max_batch_size"],
            batch_type="examples",
            max_decoding_length=MAX_DECODING_LENGTH,
            # argostranslate's decoding options, which the pipeline uses too: equal work, equal outputs.
            length_penalty=0.2,
            replace_unknowns=True,
        )

    def outputs(self) -> list[str]:
        return [self.sp.decode(r.hypotheses[0]).strip() for r in self.results]


class PipelineWorker:
    """What a cycle does for one pair: translate_articles through ArgosEngine, memory on a fresh SQLite."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from datetime import UTC, datetime

        from syndicator.models import Article
        from syndicator.translate import EngineOptions
        from syndicator.translate.argos import ArgosEngine

        self.spec = spec
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        self.options = EngineOptions(
            packages_dir=Path(spec["package"]).parent,
            data_dir=self.tmp,
            beam_size=spec["beam"],
            batch_size=spec["batch_size"],
            threads=spec["threads"],
        )
        pair = ArgosEngine(self.options).pair("en", spec["target"])
        assert pair is not None, f"no en→{spec['target']} package in {self.options.packages_dir}"
        self.pair = pair
        pair.translate_batch(["Warm up the model."])
        pair.split("Warm up the sentence splitter. It loads on first use.")
        items, self.sentences = _sentences(spec)
        when = datetime(2026, 3, 3, tzinfo=UTC)
        self.articles = [
            Article(
                n,
                "bench",
                f"a{n}",
                "en",
                it.title,
                it.summary,
                it.body_html,
                "",
                (),
                "",
                "",
                when,
                when,
                when,
                "",
            )
            for n, it in enumerate(items, 1)
        ]
        self.rounds = 0
        self.store: Any = None

    def prepare(self) -> None:
        from syndicator.store import Store

        self.rounds += 1
        self.pair.splitter.clear()  # new articles every round: nothing split before
        # An empty memory every round, so nothing is a hit; creating the schema is not part of a cycle.
        self.store = Store(f"sqlite:///{self.tmp / f'round{self.rounds}.db'}")

    def run(self) -> None:
        from syndicator.translate.document import translate_articles

        translate_articles(self.pair, self.articles, self.store, self.options.batch_size)

    def check(self) -> dict[str, Any]:
        """Every benchmark sentence went to the model exactly once."""
        _, hits, misses = self.store.translation_memory_stats()[f"en>{self.spec['target']}"]
        return {"hits": hits, "misses": misses}

    def outputs(self) -> list[str]:
        from syndicator.translate.document import sentence_key

        keys = [sentence_key(s) for s in self.sentences]
        found = self.store.translation_memory_lookup(f"en>{self.spec['target']}", self.pair.model_id, keys)
        return [found.get(k, "<missing>") for k in keys]


def update_cost(spec: dict[str, Any]) -> dict[str, Any]:
    """Publish a 40-sentence article in five languages through the CLI, change one sentence, publish again."""
    from syndicator.cli import main
    from syndicator.store import Store
    from syndicator.translate import argos

    calls = {"sentences": 0}
    original = argos.ArgosPair.translate_batch

    def counting(self: argos.ArgosPair, sentences: Any) -> list[str]:
        calls["sentences"] += len(sentences)
        return original(self, sentences)

    argos.ArgosPair.translate_batch = counting  # type: ignore[method-assign]

    root = Path(tempfile.mkdtemp(prefix="bench-instance-"))
    (root / "config").mkdir()
    (root / "articles").mkdir()
    (root / "config" / "syndicator.toml").write_text(
        "[site]\ntitle = 'Bench'\nlink = 'https://news.example.org/'\n"
        "feeds_url = 'https://news.example.org/feeds/'\n\n"
        f"[languages]\nsource = 'en'\ntargets = {json.dumps(list(spec['targets']))}\n\n"
        f"[translation]\nengine = 'argos'\npackages_dir = 'models'\nbeam_size = {spec['beam']}\n\n"
        "[[source]]\nname = 'newsroom'\nkind = 'folder'\npath = 'articles'\nevery = '5m'\n",
        encoding="utf-8",
    )
    pool = newsgen.sentences(41, seed=7)
    body = pool[2:40]

    def write_article(body: list[str]) -> None:
        paragraphs = "\n\n".join(" ".join(body[i : i + 5]) for i in range(0, len(body), 5))
        (root / "articles" / "update.md").write_text(
            f"---\ntitle: {pool[0].rstrip('.')}\ndate: 2026-03-03T09:00:00Z\nsummary: {pool[1]}\n---\n\n"
            f"{paragraphs}\n",
            encoding="utf-8",
        )

    quiet = ["--config", str(root / "config" / "syndicator.toml"), "-q"]
    rss_start = rss_mb()
    assert main([*quiet, "models", "install", *spec["zips"]]) == 0
    write_article(body)
    rss_before = rss_mb()
    assert main([*quiet, "run", "--once"]) == 0
    first = calls["sentences"]
    rss_loaded = rss_mb()
    body[17] = pool[40]  # one sentence of the body changes
    write_article(body)
    assert main([*quiet, "run", "--once"]) == 0
    store = Store(f"sqlite:///{root / 'data' / 'syndicator.db'}")
    stats = store.translation_memory_stats()
    store.close()
    return {
        "article_sentences": 2 + len(body),
        "languages": len(spec["targets"]),
        "first_publish_sentences": first,
        "update_sentences": calls["sentences"] - first,
        "memory": {pair: {"remembered": s[0], "hits": s[1], "misses": s[2]} for pair, s in stats.items()},
        "rss_mb_start": round(rss_start[0], 1),
        "peak_rss_mb_after_install": round(rss_before[1], 1),
        "rss_mb_before_models": round(rss_before[0], 1),
        "rss_mb_with_models": round(rss_loaded[0], 1),
        "peak_rss_mb_first_cycle": round(rss_loaded[1], 1),
        "peak_rss_mb": round(rss_mb()[1], 1),
    }


WORKERS = {"argos": ArgosWorker, "raw": RawWorker, "pipeline": PipelineWorker}


def worker_main(kind: str, spec: dict[str, Any]) -> None:
    """Serve timed passes over stdin/stdout: 'run' → seconds; 'outputs'; 'quit'."""
    if kind == "update":
        print(json.dumps(update_cost(spec)), flush=True)
        return
    worker = WORKERS[kind](spec)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "run":
            if hasattr(worker, "prepare"):
                worker.prepare()
            start, cpu = time.perf_counter(), time.process_time()
            result = worker.run()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            if kind == "argos":
                worker.last = result  # type: ignore[attr-defined]
            reply: dict[str, Any] = {"seconds": seconds, "cpu": cpu}
            if kind == "pipeline":
                reply.update(worker.check())  # type: ignore[attr-defined]
            print(json.dumps(reply), flush=True)
        elif command == "outputs":
            outs = worker.last if kind == "argos" else worker.outputs()  # type: ignore[attr-defined]
            print(json.dumps({"outputs": outs, "rss": rss_mb()}), flush=True)
        else:
            break


# --- orchestration --------------------------------------------------------------------------------------


class Worker:
    """A contender in its own subprocess."""

    def __init__(self, kind: str, spec: dict[str, Any], env: dict[str, str]) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", kind, "--spec", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        self.ask(None)

    def ask(self, command: str | None) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command is not None:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.kind} worker died (exit code {self.proc.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def argos_env(package: Path, work: Path, beam: int) -> dict[str, str]:
    """argostranslate's settings: its defaults, our package folder and beam size, nothing in $HOME."""
    folder = work / "argos-packages"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / package.name
    if not link.exists():
        link.symlink_to(package)
    env = {"ARGOS_PACKAGES_DIR": str(folder), "ARGOS_BEAM_SIZE": str(beam)}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(work / "argos-home" / name.lower())
    return env


def throughput(args: argparse.Namespace, models: dict[str, Path], work: Path) -> dict[str, Any]:
    """Interleaved timed passes of every contender; per-round ratios."""
    from syndicator.settings_table import SETTINGS

    defaults = {s.key: s.default for s in SETTINGS}
    beam = args.beam or int(defaults["translation.beam_size"])  # type: ignore[call-overload]
    batch = args.batch_size or int(defaults["translation.batch_size"])  # type: ignore[call-overload]
    threads = int(defaults["translation.threads"])  # type: ignore[call-overload]
    from syndicator.translate.argos import ct2_threads

    intra, inter = ct2_threads(threads)
    spec = {
        "sentences": args.sentences,
        "target": "fr",
        "package": str(models["fr"]),
        "beam": beam,
        "batch_size": batch,
        "threads": threads,
        "intra_threads": intra,
        "inter_threads": inter,
        "max_batch_size": -(-batch // inter),  # what the pipeline gives each CTranslate2 sub-batch
    }
    workers = {
        "argos": Worker("argos", spec, argos_env(models["fr"], work, beam)),
        "raw": Worker("raw", spec, {}),
        "pipeline": Worker("pipeline", spec, {}),
    }
    wall: dict[str, list[float]] = {k: [] for k in CONTENDERS}
    cpu: dict[str, list[float]] = {k: [] for k in CONTENDERS}
    pairs: list[float] = []  # pipeline/raw wall ratio of passes run back to back
    for n in range(args.rounds):
        # argostranslate once per round (it is slow); raw and pipeline in alternating back-to-back passes.
        order = ["argos"] + ["raw", "pipeline"] * args.passes
        if n % 2:
            order = ["pipeline", "raw"] * args.passes + ["argos"]
        for kind in order:
            reply = workers[kind].ask("run")
            if kind == "pipeline" and (reply["hits"], reply["misses"]) != (0, spec["sentences"]):
                raise RuntimeError(f"pipeline memory was not empty or missed sentences: {reply}")
            wall[kind].append(reply["seconds"])
            cpu[kind].append(reply["cpu"])
            if kind in ("raw", "pipeline") and len(wall["raw"]) == len(wall["pipeline"]):
                pairs.append(wall["raw"][-1] / wall["pipeline"][-1])
        print(
            f"  round {n + 1}: "
            + ", ".join(f"{k} {spec['sentences'] / min(wall[k][-args.passes :]):.1f}/s" for k in CONTENDERS),
            flush=True,
        )
    outputs = {k: w.ask("outputs")["outputs"] for k, w in workers.items()}
    for w in workers.values():
        w.close()
    n = spec["sentences"]
    best = {k: n / min(v) for k, v in wall.items()}
    cpu_ms = {k: 1000 * min(v) / n for k, v in cpu.items()}
    same = {
        f"{a}={b}": sum(x == y for x, y in zip(outputs[a], outputs[b], strict=True))
        for a, b in (("pipeline", "raw"), ("pipeline", "argos"))
    }
    return {
        "settings": {k: spec[k] for k in ("beam", "batch_size", "threads", "intra_threads", "inter_threads")},
        "sentences": n,
        "rates": {k: [n / t for t in v] for k, v in wall.items()},
        "best_rates": best,
        "cpu_ms_per_sentence": cpu_ms,
        "pipeline_over_argos_best": best["pipeline"] / best["argos"],
        "pipeline_over_raw_best": best["pipeline"] / best["raw"],
        "pipeline_over_raw_paired_median": statistics.median(pairs),
        "pipeline_over_raw_cpu": cpu_ms["raw"] / cpu_ms["pipeline"],
        "identical_outputs": same,
    }


def summarize(result: dict[str, Any]) -> list[str]:
    """The report, one line each."""
    t = result["throughput"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = [
        f"model: {result['model']}; model.bin {result['model_mb']} MB; {t['sentences']} sentences",
        f"settings: {t['settings']}",
        "contender   best sent/s   CPU ms/sentence   all passes (sent/s)",
    ]
    for kind in CONTENDERS:
        rates = " ".join(f"{x:.1f}" for x in t["rates"][kind])
        lines.append(
            f"  {kind:9} {t['best_rates'][kind]:11.1f}   {t['cpu_ms_per_sentence'][kind]:15.1f}   {rates}"
        )
    argos, raw = t["pipeline_over_argos_best"], t["pipeline_over_raw_best"]
    paired, by_cpu = t["pipeline_over_raw_paired_median"], t["pipeline_over_raw_cpu"]
    lines += [
        f"pipeline / argostranslate per sentence (best passes): {argos:.2f}x  (target >= 4x: {verdict(argos >= 4)})",
        f"pipeline / raw translate_batch (best passes):         {raw:.2f}   (target >= 0.90: {verdict(raw >= 0.9)})",
        f"  median of back-to-back pairs {paired:.2f}, by CPU time {by_cpu:.2f}",
        f"identical outputs: {t['identical_outputs']} of {t['sentences']}",
    ]
    u = result["update"]
    lines += [
        f"update cost: {u['article_sentences']}-sentence article in {u['languages']} languages: first publish "
        f"{u['first_publish_sentences']} sentences to the model; after changing one sentence "
        f"{u['update_sentences']} (target {u['languages']}: {verdict(u['update_sentences'] == u['languages'])})",
        f"memory: RSS {u['rss_mb_before_models']} MB before models, {u['rss_mb_with_models']} MB with "
        f"{u['languages']} pairs loaded after a cycle; peak {u['peak_rss_mb_first_cycle']} MB in the first cycle, "
        f"{u['peak_rss_mb']} MB overall",
    ]
    return lines


def main() -> int:
    """Parse arguments and run the benchmark (or one worker)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=200, help="sentences per timed pass (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per contender (default 3)")
    parser.add_argument("--passes", type=int, default=2, help="raw and pipeline passes per round (default 2)")
    parser.add_argument("--batch-size", type=int, default=0, help="default: translation.batch_size")
    parser.add_argument("--beam", type=int, default=0, help="beam size (default: translation.beam_size)")
    parser.add_argument("--quick", action="store_true", help="tiny model, 12 sentences, 1 round (for tests)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "syndicator-bench")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker, json.loads(args.spec))
        return 0
    size = TINY if args.quick else BASE
    if args.quick:
        args.sentences, args.rounds = min(args.sentences, 12), 1
    started = time.perf_counter()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"building/caching {'tiny' if args.quick else 'base-sized'} models in {args.cache} ...", flush=True)
    models = build_models(args.cache, size, TARGETS)
    model_mb = round((models["fr"] / "model" / "model.bin").stat().st_size / 2**20, 1)
    with tempfile.TemporaryDirectory(prefix="syndicator-bench-") as tmp:
        result: dict[str, Any] = {"model": "tiny" if args.quick else f"base {BASE}", "model_mb": model_mb}
        print("throughput ...", flush=True)
        result["throughput"] = throughput(args, models, Path(tmp))
        print("update cost and memory ...", flush=True)
        zips = [str(next((p.parent.parent / "zips").glob("*.argosmodel"))) for p in models.values()]
        spec = {"targets": list(TARGETS), "zips": zips, "beam": result["throughput"]["settings"]["beam"]}
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", "update", "--spec", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=True,
        )
        result["update"] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["seconds"] = round(time.perf_counter() - started, 1)
    print("\n".join(summarize(result)))
    print(f"total {result['seconds']} s, load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
