"""Translation benchmark: the pipeline against every way of running the same Argos model, update cost, memory.

Contenders (DEFAULT_CONTENDERS), each in its own subprocess, the same sentences, model and beam size:
argostranslate's translate() per sentence with its default threads (intra 0) and with ARGOS_INTRA_THREADS=1;
LibreTranslate as a real HTTP server (its own venv under --cache, installed on first use; skipped with the
reason when it cannot be installed) with its defaults and one client, and with ARGOS_INTER_THREADS=2
ARGOS_INTRA_THREADS=1 and two concurrent clients; raw CTranslate2 translate_batch at the pipeline's old setting
(arrival order, 32 per sub-batch) and a sweep of better ones (RAW_SETTINGS); the pipeline (translate_articles),
profiled per stage (syndicator/translate/stages.py). Each worker loads its model once, then all take turns, one
timed pass each per round, the order reversed every other round; the pipeline's ratios to the best raw
setting and to LibreTranslate's best are taken per round, then the median.

Two sentence sets: "plain" (newsgen.sentences: nothing to protect; outputs compared) and "news"
(newsgen.news_items: numbers, dates, URLs, inline HTML, glossary terms: protection and its fallback on the
hot path). Two models (MODELS), both transformer-base-shaped and built from scratch: "short" (the decoder stops
after ~10 tokens) and "long" (~30 tokens, like a real model's sentence).

    .venv/bin/python bench/translate_throughput.py            # both models, both sets, 200 sentences, 3 rounds
    .venv/bin/python bench/translate_throughput.py --models long --sets plain --contenders raw-sorted-16,pipeline-bt-512,pipeline-bt-1024
    .venv/bin/python bench/translate_throughput.py --quick    # tiny models, a few sentences (used by a test)
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


def _items(spec: dict[str, Any]) -> list[newsgen.NewsItem]:
    if spec["set"] == "news":
        return newsgen.news_items(spec["sentences"])
    return newsgen.articles(newsgen.sentences(spec["sentences"]))


def _texts(spec: dict[str, Any]) -> list[str]:
    """The set's sentences as text: what every contender but the pipeline (which takes the HTML) translates."""
    return [newsgen.plain_text(s) for item in _items(spec) for s in item.all_sentences()]


class ArgosWorker:
    """argostranslate's public API, one translate() call per sentence; its settings come from the environment
    (ARGOS_INTRA_THREADS, ARGOS_BEAM_SIZE), read at import."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import argostranslate.translate

        self.translate = argostranslate.translate.translate
        self.sentences = _texts(spec)
        self.translate("Warm up the model.", "en", spec["target"])
        self.target = spec["target"]
        self.last: list[str] = []

    def run(self, variant: str) -> dict[str, Any]:
        self.last = [self.translate(s, "en", self.target) for s in self.sentences]
        return {}

    def outputs(self) -> list[str]:
        return self.last


# Raw CTranslate2 settings swept (name -> how the sentences are ordered and cut). "arrival": what the pipeline
# used to do (sentences in the order they come, CTranslate2 cuts sub-batches of 32). "sorted-N": sorted by
# length first, sub-batches of N sentences. "tokens-N": sorted, sub-batches of N source tokens (CTranslate2's
# batch_type="tokens", which counts padding like translation.batch_tokens does).
RAW_SETTINGS: dict[str, tuple[bool, int, str]] = {
    "arrival-32": (False, 32, "examples"),
    "sorted-8": (True, 8, "examples"),
    "sorted-16": (True, 16, "examples"),
    "sorted-32": (True, 32, "examples"),
    "tokens-512": (True, 512, "tokens"),
    "tokens-1024": (True, 1024, "tokens"),
    "tokens-2048": (True, 2048, "tokens"),
}


def raw_pass(
    translator: Any, tokens: list[list[str]], variant: str, beam: int
) -> tuple[list[Any], list[int]]:
    """One raw CTranslate2 pass at one of RAW_SETTINGS: (results, the order the sentences went in)."""
    by_length, size, kind = RAW_SETTINGS[variant]
    order = list(range(len(tokens)))
    if by_length:
        order.sort(key=lambda i: len(tokens[i]))
    results = translator.translate_batch(
        [tokens[i] for i in order],
        beam_size=beam,
        max_batch_size=size,
        batch_type=kind,
        max_decoding_length=MAX_DECODING_LENGTH,
        # argostranslate's decoding options, which the pipeline uses too: equal work, equal outputs.
        length_penalty=0.2,
        replace_unknowns=True,
    )
    return results, order


class RawWorker:
    """The ceiling: one CTranslate2 translate_batch over pre-tokenized sentences (tokenizing and detokenizing
    not timed), at each of RAW_SETTINGS (the variant)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import ctranslate2
        import sentencepiece

        pkg = Path(spec["package"])
        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(pkg / "sentencepiece.model"))
        self.tokens = [self.sp.encode(s, out_type=str) for s in _texts(spec)]
        self.spec = spec
        self.translator = ctranslate2.Translator(
            str(pkg / "model"),
            device="cpu",
            intra_threads=spec["intra_threads"],
            inter_threads=spec["inter_threads"],
        )
        self.translator.translate_batch(self.tokens[:2], beam_size=spec["beam"])
        self.results: list[Any] = []
        self.order: list[int] = []

    def run(self, variant: str) -> dict[str, Any]:
        self.results, self.order = raw_pass(self.translator, self.tokens, variant, self.spec["beam"])
        return {"output_tokens": sum(len(r.hypotheses[0]) for r in self.results) / max(1, len(self.results))}

    def outputs(self) -> list[str]:
        out = [""] * len(self.results)
        for i, r in zip(self.order, self.results, strict=True):
            out[i] = self.sp.decode(r.hypotheses[0]).strip()
        return out


class PipelineWorker:
    """What a cycle does for one pair: translate_articles through ArgosEngine, memory on a fresh SQLite,
    profiled per stage. The variant "default" uses the settings' defaults; "bt-N" sets batch_tokens to N,
    "pool-N" the pool of batches (batching.POOL_BATCHES); "raw-S" is a raw CTranslate2 pass at RAW_SETTINGS[S] on the
    very model the pipeline loaded, in the same process (the sentences tokenized once, not timed)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from datetime import UTC, datetime

        from syndicator.config import TranslationConfig
        from syndicator.glossary import load_glossary
        from syndicator.models import Article
        from syndicator.translate import EngineOptions, batching
        from syndicator.translate.argos import ArgosEngine
        from syndicator.translate.document import Faithful

        self.spec = spec
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        (self.tmp / "config").mkdir()
        (self.tmp / "config" / "glossary.toml").write_text(newsgen.GLOSSARY, encoding="utf-8")
        self.faithful = Faithful(load_glossary(self.tmp))
        self.translation = TranslationConfig(
            packages_dir=Path(spec["package"]).parent,
            beam_size=spec["beam"],
            batch_size=spec["batch_size"],
            threads=spec["threads"],
        )
        self.options = EngineOptions(self.translation, data_dir=self.tmp)
        pair = ArgosEngine(self.options).pair("en", spec["target"])
        assert pair is not None, f"no en→{spec['target']} package in {self.options.translation.packages_dir}"
        self.pair: Any = pair
        pair.translate_batch(["Warm up the model."])
        pair.split("Warm up the sentence splitter. It loads on first use.")
        items = _items(spec)
        self.texts = _texts(spec)
        when = datetime(2026, 3, 3, tzinfo=UTC)
        self.articles = [
            Article(n, "bench", f"a{n}", "en", it.title, it.summary, it.body_html, "", (), "", "",
                    when, when, when, "")
            for n, it in enumerate(items, 1)
        ]  # fmt: skip
        self.rounds = 0
        self.store: Any = None
        self.pool = batching.POOL_BATCHES
        loaded: Any = pair
        queue = loaded.queue()  # the model the pipeline translates with, loaded
        self.model = queue.model
        queue.close()
        self.tokens = [loaded.pkg.tokenizer.encode(t) for t in self.texts]
        # A running service has seen earlier cycles: one untimed pass (its own memory) lets the pair learn
        # whether the model keeps placeholders (survival.py); "unlearned" forgets it before each of its passes.
        from syndicator.store import Store
        from syndicator.translate.document import translate_articles

        warm = Store(f"sqlite:///{self.tmp / 'warm.db'}")
        translate_articles(pair, self.articles, warm, self.translation.batch_size, self.faithful)
        warm.close()
        self.pair.splitter.clear()

    def prepare(self, variant: str) -> None:
        """Not timed: a fresh memory (creating the schema is not part of a cycle), the variant's settings."""
        from dataclasses import replace

        from syndicator.store import Store

        if variant.startswith("raw-"):
            return  # nothing of the pipeline's runs
        self.rounds += 1
        self.pair.splitter.clear()  # new articles every round: nothing split before
        self.store = Store(f"sqlite:///{self.tmp / f'round{self.rounds}.db'}")
        translation = self.translation
        if variant.startswith("bt-"):
            translation = replace(translation, batch_tokens=int(variant[3:]))
        # A tuning knob that is not a setting. One process runs every pipeline variant in turn: each round
        # sets it again, to the variant's value or the default, so that no variant's value leaks into another's.
        from syndicator.translate import batching

        batching.POOL_BATCHES = int(variant[5:]) if variant.startswith("pool-") else self.pool
        if variant == "unlearned":  # a first cycle: nothing known yet of how the model treats placeholders
            from syndicator.translate.survival import forget

            forget(self.pair)
        self.pair.options = replace(self.options, translation=translation)

    def run(self, variant: str) -> dict[str, Any]:
        from syndicator.translate.document import translate_articles
        from syndicator.translate.stages import profiling

        if variant.startswith("raw-"):
            results, _ = raw_pass(self.model, self.tokens, variant[4:], self.spec["beam"])
            return {"output_tokens": sum(len(r.hypotheses[0]) for r in results) / max(1, len(results))}
        translation = self.pair.options.translation
        with profiling() as profile:
            translate_articles(self.pair, self.articles, self.store, translation.batch_size, self.faithful)
        _, hits, misses = self.store.translation_memory_stats()[f"en>{self.spec['target']}"]
        stages = {**profile.cpu, "other": profile.other}
        # The share of the workers' time spent in the model: below 1 on a quiet machine, the model waited.
        busy = profile.cpu["model"] / max(1e-9, profile.wall * self.spec["inter_threads"])
        return {"hits": hits, "misses": misses, "stages": stages, "model_busy": busy}

    def outputs(self) -> list[str]:
        from syndicator.translate.batching import sentence_key

        keys = [sentence_key(s) for s in self.texts]
        found = self.store.translation_memory_lookup(f"en>{self.spec['target']}", self.pair.model_id, keys)
        return [found.get(k, "<missing>") for k in keys]


class LibreWorker:
    """LibreTranslate as its users run it: a real HTTP server on 127.0.0.1 (from its own venv, see
    libretranslate_python()), one POST /translate per sentence from `clients` concurrent clients, each on a
    kept-alive connection. CPU time is the server's (its process and children), read from /proc."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import socket

        self.sentences = _texts(spec)
        self.clients = spec["clients"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = Path(tempfile.mkstemp(prefix="bench-libretranslate-", suffix=".log")[1])
        self.server = subprocess.Popen(
            [spec["python"], "-m", "libretranslate.main", "--host", "127.0.0.1", "--port", str(self.port),
             "--load-only", f"en,{spec['target']}", "--disable-web-ui", "--threads", "4"],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **spec["env"]},
        )  # fmt: skip
        self.target = spec["target"]
        deadline = time.monotonic() + 600  # first start: it may compile and load a lot
        while True:
            try:
                self._post(self._connect(), "Warm up the model.")
                break
            except OSError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    tail = self.log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"LibreTranslate did not start (log {self.log}):\n{tail}") from None
                time.sleep(0.5)
        self.last: list[str] = []

    def _connect(self) -> Any:
        import http.client

        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)

    def _post(self, conn: Any, text: str) -> str:
        body = json.dumps({"q": text, "source": "en", "target": self.target, "format": "text"})
        conn.request("POST", "/translate", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"LibreTranslate answered {response.status}: {data[:300]!r}")
        return str(json.loads(data)["translatedText"])

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.server.pid}/stat").read_text().rpartition(")")[2].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime

    def run(self, variant: str) -> dict[str, Any]:
        import threading

        out = [""] * len(self.sentences)
        todo = iter(range(len(self.sentences)))
        lock = threading.Lock()
        errors: list[BaseException] = []

        def client() -> None:
            conn = self._connect()
            try:
                while True:
                    with lock:
                        i = next(todo, None)
                    if i is None:
                        return
                    out[i] = self._post(conn, self.sentences[i])
            except BaseException as exc:  # reported by the caller
                errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=client) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.last = out
        return {}

    def outputs(self) -> list[str]:
        return self.last

    def close(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=60)


def make_instance(root: Path, targets: list[str], beam: int) -> Path:
    """A temp instance translating from a drop folder (root/articles) into `targets`; its config file."""
    (root / "config").mkdir(parents=True)
    (root / "articles").mkdir()
    config = root / "config" / "syndicator.toml"
    config.write_text(
        "[site]\ntitle = 'Bench'\nlink = 'https://news.example.org/'\n"
        "feeds_url = 'https://news.example.org/feeds/'\n\n"
        f"[languages]\nsource = 'en'\ntargets = {json.dumps(targets)}\n\n"
        f"[translation]\nengine = 'argos'\npackages_dir = 'models'\nbeam_size = {beam}\n\n"
        "[[source]]\nname = 'newsroom'\nkind = 'folder'\npath = 'articles'\nevery = '5m'\n",
        encoding="utf-8",
    )
    return config


def update_cost(spec: dict[str, Any]) -> dict[str, Any]:
    """Publish a 40-sentence article in five languages through the CLI, change one sentence, publish again."""
    from syndicator.cli import main
    from syndicator.store import Store
    from syndicator.translate import argos

    calls = {"sentences": 0}
    original = argos.ArgosQueue.submit

    def counting(self: argos.ArgosQueue, batch: Any) -> Any:
        calls["sentences"] += len(batch)  # every sentence that reaches the model goes through here
        return original(self, batch)

    argos.ArgosQueue.submit = counting  # type: ignore[method-assign]

    root = Path(tempfile.mkdtemp(prefix="bench-instance-"))
    make_instance(root, spec["targets"], spec["beam"])
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


WORKERS: dict[str, Any] = {
    "argos": ArgosWorker,
    "libre": LibreWorker,
    "raw": RawWorker,
    "pipeline": PipelineWorker,
}


def worker_main(kind: str, spec: dict[str, Any]) -> None:
    """Serve timed passes over stdin/stdout: 'run VARIANT' → seconds, CPU seconds; 'outputs'; 'quit'."""
    if kind == "update":
        print(json.dumps(update_cost(spec)), flush=True)
        return
    worker = WORKERS[kind](spec)
    print(json.dumps({"ready": True}), flush=True)
    try:
        for line in sys.stdin:
            command, _, variant = line.strip().partition(" ")
            if command == "run":
                if hasattr(worker, "prepare"):
                    worker.prepare(variant)
                start, cpu = time.perf_counter(), time.process_time()
                usage = resource.getrusage(resource.RUSAGE_SELF)
                foreign = worker.cpu() if kind == "libre" else 0.0
                reply = worker.run(variant)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
                after = resource.getrusage(resource.RUSAGE_SELF)
                # Page faults and kernel time: what malloc handing scratch memory back and forth costs.
                reply |= {"faults": after.ru_minflt - usage.ru_minflt, "sys": after.ru_stime - usage.ru_stime}
                if kind == "libre":  # the server's CPU, not the client's
                    cpu = worker.cpu() - foreign
                print(json.dumps({"seconds": seconds, "cpu": cpu, **reply}), flush=True)
            elif command == "outputs":
                print(json.dumps({"outputs": worker.outputs(), "rss": rss_mb()}), flush=True)
            else:
                break
    finally:
        if hasattr(worker, "close"):
            worker.close()


# --- orchestration --------------------------------------------------------------------------------------


class Worker:
    """A contender's process: loads its model once, then runs timed passes when asked."""

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
        self.proc.wait(timeout=120)


def argos_env(package: Path, work: Path, beam: int) -> dict[str, str]:
    """argostranslate's settings: its defaults, our package folder and beam size, nothing in $HOME."""
    folder = work / "argos-packages"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / package.name
    if not link.exists():
        link.symlink_to(package)
    env = {"ARGOS_PACKAGES_DIR": str(folder), "ARGOS_BEAM_SIZE": str(beam)}
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME"):
        env[name] = str(work / "argos-home" / name.lower())
    return env


def libretranslate_python(cache: Path) -> tuple[str | None, str]:
    """LibreTranslate's Python, in its own venv under the cache (created on first use: `pip install
    libretranslate`, which brings its own argostranslate and torch), or None and why not."""
    venv = cache / "libretranslate-venv"
    python = venv / "bin" / "python"
    if not (venv / "installed").exists():
        log = cache / "libretranslate-install.log"
        print(f"installing LibreTranslate into {venv} (once; log in {log}) ...", flush=True)
        with log.open("wb") as out:
            ok = (
                subprocess.run([sys.executable, "-m", "venv", str(venv)], stdout=out, stderr=out).returncode
                == 0
            )
            ok = (
                ok
                and subprocess.run(
                    [str(python), "-m", "pip", "install", "--disable-pip-version-check", "libretranslate"],
                    stdout=out,
                    stderr=out,
                ).returncode
                == 0
            )
        if not ok:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            return None, f"pip install libretranslate failed (log {log}): {' | '.join(tail)}"
        (venv / "installed").touch()
    return str(python), ""


# Contenders: name -> (worker kind, variant, extra spec, environment). argostranslate and LibreTranslate read
# their thread settings from the environment; ARGOS_INTRA_THREADS=0 is their default (every core per call).
# Raw settings run by default: sorted-8 and tokens-512 were slower than every one of these in every run.
RAW_DEFAULT = ("arrival-32", "sorted-16", "sorted-32", "tokens-1024", "tokens-2048")
DEFAULT_CONTENDERS = (
    "argos-intra0", "argos-intra1", "libre-default", "libre-2x1",
    *(f"raw-{name}" for name in RAW_DEFAULT), "pipeline", *(f"inproc-raw-{name}" for name in RAW_DEFAULT),
)  # fmt: skip
NEWS_CONTENDERS = (
    "argos-intra1", "libre-2x1", "raw-arrival-32", "raw-sorted-16", "raw-tokens-1024", "pipeline", "pipeline-unlearned",
    "inproc-raw-arrival-32", "inproc-raw-sorted-16", "inproc-raw-tokens-1024",
)  # fmt: skip


def contender(name: str) -> tuple[str, str, dict[str, Any], dict[str, str]]:
    """How to run a contender named on the command line (see DEFAULT_CONTENDERS). A suffix "@arenas-N" runs
    it with MALLOC_ARENA_MAX=N (glibc reads it itself, and the pipeline leaves the arenas alone when it is
    set); contenders with the same suffix share their process as they would without one."""
    base, _, suffix = name.partition("@")
    env: dict[str, str] = {}
    if suffix:
        if not (suffix.startswith("arenas-") and suffix[7:].isdigit()):
            raise SystemExit(f"unknown suffix in {name!r}: only @arenas-N")
        env = {"MALLOC_ARENA_MAX": suffix[7:]}
    if base == "pipeline-arenas-8":  # the name earlier runs in bench/README.md used
        base, env = "pipeline", {"MALLOC_ARENA_MAX": "8"}
    if base == "argos-intra0":
        return "argos", "", {}, {"ARGOS_INTRA_THREADS": "0", **env}
    if base == "argos-intra1":
        return "argos", "", {}, {"ARGOS_INTRA_THREADS": "1", **env}
    if base == "libre-default":
        return "libre", "", {"clients": 1}, env
    if base == "libre-2x1":
        return "libre", "", {"clients": 2}, {"ARGOS_INTER_THREADS": "2", "ARGOS_INTRA_THREADS": "1", **env}
    if base.startswith("raw-") and base[4:] in RAW_SETTINGS:
        return "raw", base[4:], {}, env
    if base.startswith("inproc-raw-") and base[11:] in RAW_SETTINGS:
        # In the pipeline's own process, on the model it loaded: what the process adds (its memory layout,
        # the arena cap, whatever else it imported) is then the same for both sides of the ratio.
        return "pipeline", base[7:], {}, env
    if base == "pipeline":
        return "pipeline", "default", {}, env
    if base.startswith(("pipeline-bt-", "pipeline-pool-")) or base == "pipeline-unlearned":
        return "pipeline", base[len("pipeline-") :], {}, env
    raise SystemExit(
        f"unknown contender {name!r}: one of {', '.join(DEFAULT_CONTENDERS)}, raw-S, inproc-raw-S (S of "
        f"{', '.join(RAW_SETTINGS)}), pipeline-bt-N, pipeline-pool-N; any of them with @arenas-N"
    )


def same_process(name: str, other: str) -> bool:
    """Whether two contenders' names put them in one process (an in-process raw pass and its pipeline)."""
    return name.partition("@")[2] == other.partition("@")[2]


DESCRIPTIONS = {
    "argos-intra0": "argostranslate translate() per sentence, its default threads (intra 0)",
    "argos-intra1": "argostranslate translate() per sentence, ARGOS_INTRA_THREADS=1",
    "libre-default": "LibreTranslate, defaults, one client",
    "libre-2x1": "LibreTranslate, ARGOS_INTER_THREADS=2 ARGOS_INTRA_THREADS=1, two concurrent clients",
    "raw-arrival-32": "raw CTranslate2, the pipeline's old setting (2x1 threads, arrival order, batch 32)",
    **{
        f"inproc-raw-{name}": f"raw CTranslate2 {name}, in the pipeline's process on its loaded model"
        for name in RAW_SETTINGS
    },
}


def throughput(
    args: argparse.Namespace, package: Path, sentence_set: str, names: list[str], work: Path
) -> dict[str, Any]:
    """Every contender on one model and one sentence set: interleaved passes, order alternating by round."""
    from syndicator.settings_table import SETTINGS
    from syndicator.translate.argos import ct2_threads

    defaults = {s.key: s.default for s in SETTINGS}
    beam = args.beam or int(defaults["translation.beam_size"])  # type: ignore[call-overload]
    batch = int(defaults["translation.batch_size"])  # type: ignore[call-overload]
    threads = int(defaults["translation.threads"])  # type: ignore[call-overload]
    intra, inter = ct2_threads(threads)
    spec: dict[str, Any] = {
        "sentences": args.sentences,
        "set": sentence_set,
        "target": "fr",
        "package": str(package),
        "beam": beam,
        "batch_size": batch,
        "threads": threads,
        "intra_threads": intra,
        "inter_threads": inter,
    }
    n = len(_texts(spec))
    skipped: dict[str, str] = {}
    processes: dict[tuple[str, str], Worker] = {}  # one per kind and environment: raw variants share one
    runs: dict[str, tuple[Worker, str]] = {}
    for name in names:
        kind, variant, extra, env = contender(name)
        if kind in ("argos", "libre"):
            env = {**argos_env(package, work, beam), **env}
        if kind == "libre":
            python, why = libretranslate_python(args.cache)
            if python is None:
                skipped[name] = why
                print(f"  {name}: skipped: {why}", flush=True)
                continue
            extra = {**extra, "python": python, "env": env}
        key = (kind, json.dumps([extra, env], sort_keys=True))
        if key not in processes:
            print(f"  starting {name} ...", flush=True)
            try:
                processes[key] = Worker(kind, {**spec, **extra}, env)
            except RuntimeError as exc:
                skipped[name] = str(exc)
                print(f"  {name}: skipped: {exc}", flush=True)
                continue
        runs[name] = (processes[key], variant)
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    extra_out: dict[str, list[dict[str, Any]]] = {k: [] for k in runs}
    for r in range(args.rounds):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in order:
            worker, variant = runs[name]
            reply = worker.ask(f"run {variant}")
            if "hits" in reply and reply["hits"] != 0:
                raise RuntimeError(f"pipeline memory was not empty: {reply}")
            if "misses" in reply and sentence_set == "plain" and reply["misses"] != n:
                raise RuntimeError(f"pipeline sent {reply['misses']} sentences to the model, not {n}")
            wall[name].append(reply.pop("seconds"))
            cpu[name].append(reply.pop("cpu"))
            extra_out[name].append(reply)
        print(f"  round {r + 1}: " + ", ".join(f"{k} {n / wall[k][-1]:.1f}/s" for k in runs), flush=True)
    outputs = {}
    for name, (worker, variant) in runs.items():
        if variant.startswith("raw-") and worker.kind == "pipeline":
            continue  # the worker's outputs are its pipeline's
        if worker.kind != "raw" or name == "raw-sorted-16" or "raw-sorted-16" not in runs:
            outputs[name] = worker.ask("outputs")["outputs"]
    for worker in processes.values():
        worker.close()
    rate = {k: n / statistics.median(v) for k, v in wall.items()}
    cpu_ms = {k: 1000 * statistics.median(v) / n for k, v in cpu.items()}
    result: dict[str, Any] = {
        "set": sentence_set,
        "settings": {k: spec[k] for k in ("beam", "batch_size", "threads", "intra_threads", "inter_threads")},
        "sentences": n,
        "rates": {k: [n / t for t in v] for k, v in wall.items()},
        "cpu_ms": {k: [1000 * t / n for t in v] for k, v in cpu.items()},
        "median_rate": rate,
        "median_cpu_ms_per_sentence": cpu_ms,
        "skipped": skipped,
    }
    raws = [k for k in runs if k.startswith("raw-")]
    if raws:
        best = result["best_raw"] = max(raws, key=lambda k: rate[k])
        result["raw_output_tokens"] = statistics.median(x["output_tokens"] for x in extra_out[best])
    libres = [k for k in runs if k.startswith("libre-")]
    best_libre = max(libres, key=lambda k: rate[k]) if libres else None
    for name in [k for k in runs if not k.startswith("libre-")]:  # LibreTranslate's faults are its server's
        result.setdefault("page_faults", {})[name] = statistics.median(x["faults"] for x in extra_out[name])
        result.setdefault("kernel_ms", {})[name] = (
            1000 * statistics.median(x["sys"] for x in extra_out[name]) / n
        )
    for name in [k for k in runs if k.startswith("pipeline")]:
        stages = extra_out[name]
        keys = stages[0]["stages"]
        result.setdefault("stages_ms_per_sentence", {})[name] = {
            s: 1000 * statistics.median(x["stages"][s] for x in stages) / n for s in keys
        }
        result.setdefault("model_busy", {})[name] = statistics.median(x["model_busy"] for x in stages)
        ratios: dict[str, float] = {}
        inproc = [k for k in runs if k.startswith("inproc-raw-") and same_process(k, name)]
        best_inproc = max(inproc, key=lambda k: rate[k]) if inproc else None
        if best_inproc:
            result.setdefault("best_inproc_raw", {})[name] = best_inproc
            result["raw_output_tokens"] = statistics.median(
                x["output_tokens"] for x in extra_out[best_inproc]
            )
        for other in (result.get("best_raw"), best_inproc, best_libre):
            if other is None:
                continue
            # Per round (the two passes ran close together), then the median: robust to foreign load.
            ratios[f"over_{other}_wall"] = statistics.median(
                a / b for a, b in zip(wall[other], wall[name], strict=True)
            )
            ratios[f"over_{other}_cpu"] = statistics.median(
                a / b for a, b in zip(cpu[other], cpu[name], strict=True)
            )
        result.setdefault("ratios", {})[name] = ratios
    if "pipeline" in outputs and sentence_set == "plain":
        result["identical_outputs"] = {
            f"pipeline={k}": sum(x == y for x, y in zip(outputs["pipeline"], v, strict=True))
            for k, v in outputs.items()
            if k != "pipeline"
        }
    return result


def summarize_throughput(label: str, t: dict[str, Any]) -> list[str]:
    """One model and set: the table, the stage breakdown, the ratios against the targets."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    n = t["sentences"]
    lines = [
        f"{label}: set {t['set']!r}, {n} sentences, settings {t['settings']}",
        "| contender | sentences/s (median) | CPU ms per sentence (median) | passes (sentences/s) |",
        "|---|---:|---:|---|",
    ]
    for k, rate in t["median_rate"].items():
        passes = " ".join(f"{x:.1f}" for x in t["rates"][k])
        lines.append(
            f"| {DESCRIPTIONS.get(k, k)} | {rate:.1f} | {t['median_cpu_ms_per_sentence'][k]:.1f} | {passes} |"
        )
    for k, why in t["skipped"].items():
        lines.append(f"| {DESCRIPTIONS.get(k, k)} | skipped: {why} | | |")
    if "best_raw" in t:
        lines.append(
            f"best raw setting (its own process): {t['best_raw']}; the model writes {t['raw_output_tokens']:.1f} "
            "tokens per sentence"
        )
    for name, best in t.get("best_inproc_raw", {}).items():
        lines.append(f"best raw setting in {name}'s process: {best}")
    for name, stages in t.get("stages_ms_per_sentence", {}).items():
        lines.append(
            f"{name} CPU ms per sentence by stage: " + ", ".join(f"{s} {v:.2f}" for s, v in stages.items())
        )
        lines.append(
            f"{name}: the model busy {t['model_busy'][name]:.0%} of its workers' time (model CPU / wall × "
            "workers; on a quiet machine the rest is a worker waiting for a batch)"
        )
    for name, faults in t.get("page_faults", {}).items():
        lines.append(
            f"{name}: {faults:,.0f} page faults per pass, {t['kernel_ms'][name]:.2f} ms of kernel CPU per sentence "
            "(medians; part of its CPU above)"
        )
    for name, ratios in t.get("ratios", {}).items():
        for key, value in ratios.items():
            target = 0.95 if "raw" in key else 1.4
            lines.append(
                f"{name} {key.replace('_', ' ')}: {value:.2f}x (target >= {target}: {verdict(value >= target)})"
            )
    if "identical_outputs" in t:
        lines.append(f"identical outputs: {t['identical_outputs']} of {n}")
    return lines


def summarize_update(u: dict[str, Any]) -> list[str]:
    """The update cost and the memory of its process."""
    ok = u["update_sentences"] == u["languages"]
    return [
        f"update cost: {u['article_sentences']}-sentence article in {u['languages']} languages: first publish "
        f"{u['first_publish_sentences']} sentences to the model; after changing one sentence "
        f"{u['update_sentences']} (target {u['languages']}: {'met' if ok else 'NOT met'})",
        f"memory: RSS {u['rss_mb_before_models']} MB before models, {u['rss_mb_with_models']} MB with "
        f"{u['languages']} pairs loaded after a cycle; peak {u['peak_rss_mb_first_cycle']} MB in the first cycle "
        "(bench/translate_memory.py measures a backlog's peak)",
    ]


# The two models (module docstring of tests/support/tinymodel.py: the decoder's </s> "clock"). "short": the
# default clock, ~10 output tokens per sentence. "long": its </s> bias lowered so that </s> wins only after
# ~30 tokens, as long as a real model's translation of a news sentence (untrained weights never stop on
# their own: a lower bias is the only lever).
MODELS = {"short": {}, "long": {"output_tokens": 26}}


def main() -> int:
    """Parse arguments and run the benchmark (or one worker)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=200, help="sentences per timed pass (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per contender (default 3)")
    parser.add_argument("--beam", type=int, default=0, help="beam size (default: translation.beam_size)")
    parser.add_argument("--models", default="short,long", help="of: short, long (default both)")
    parser.add_argument("--sets", default="plain,news", help="of: plain, news (default both)")
    parser.add_argument(
        "--contenders",
        help="comma-separated (default: every one on 'plain', fewer on 'news'); also pipeline-bt-N",
    )
    parser.add_argument("--no-update", action="store_true", help="skip the update-cost run")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny models, 12 sentences, 1 round, no LibreTranslate (for tests)",
    )
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
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    result: dict[str, Any] = {"model": "tiny" if args.quick else f"base {BASE}", "throughput": {}}
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="syndicator-bench-") as tmp:
        for model in args.models.split(","):
            print(
                f"building/caching the {model} {'tiny' if args.quick else 'base-sized'} model in {args.cache} ...",
                flush=True,
            )
            package = build_models(args.cache, {**size, **MODELS[model]}, ("fr",))["fr"]
            for sentence_set in args.sets.split(","):
                if args.contenders:
                    names = args.contenders.split(",")
                elif args.quick:
                    names = [
                        "argos-intra1",
                        "raw-arrival-32",
                        "raw-sorted-16",
                        "pipeline",
                        "inproc-raw-sorted-16",
                    ]
                else:
                    names = list(DEFAULT_CONTENDERS if sentence_set == "plain" else NEWS_CONTENDERS)
                label = f"{model} model"
                print(f"throughput: {label}, {sentence_set} set ...", flush=True)
                t = throughput(args, package, sentence_set, names, Path(tmp) / f"{model}-{sentence_set}")
                result["throughput"][f"{model}/{sentence_set}"] = t
                lines += [*summarize_throughput(label, t), ""]
        if not args.no_update:
            print("update cost and memory ...", flush=True)
            models = build_models(args.cache, size, TARGETS)
            zips = [str(next((p.parent.parent / "zips").glob("*.argosmodel"))) for p in models.values()]
            beam = (
                next(iter(result["throughput"].values()))["settings"]["beam"] if result["throughput"] else 2
            )
            spec = {"targets": list(TARGETS), "zips": zips, "beam": beam}
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", "update", "--spec", json.dumps(spec)],
                capture_output=True,
                text=True,
                check=True,
            )
            result["update"] = json.loads(proc.stdout.strip().splitlines()[-1])
            lines += summarize_update(result["update"])
    result["seconds"] = round(time.perf_counter() - started, 1)
    print("\n".join(lines))
    print(f"total {result['seconds']} s, load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
