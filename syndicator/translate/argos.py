"""Argos Translate engine: argostranslate's package loading, sentence splitting and tokenizers, with
sentences batched through the package's CTranslate2 model."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from syndicator.translate import EngineOptions, ModelInfo, PairTranslator, cut_batch, find_pair, register
from syndicator.translate.packages import PackageDir, scan
from syndicator.translate.sbd import MiniSbd
from syndicator.translate.sentences import split_sentences
from syndicator.translate.stages import stage

log = logging.getLogger(__name__)

# A text can hold a sentence boundary only if it has terminal punctuation before its last character, or a
# line break; anything else (headlines, one-sentence summaries) is one sentence.
_MAYBE_SEVERAL = re.compile(r"[.!?…。！？;；][^.!?…。！？;；]|\n")
_SPLIT_CACHE_SIZE = 4096  # texts remembered per splitter: the same article is split once for every language
_M_ARENA_MAX = -8  # from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# CTranslate2's scratch buffers for one batch are a few MB to a few tens of MB. Left to glibc, whether a
# buffer of that size is mmapped (and unmapped when freed) or kept in the heap depends on the sizes freed
# before, and the freed top of a heap is given back: a process could page-fault 150,000 times per 200
# sentences (2.7 ms of kernel CPU per sentence, a tenth of the model's time) or nearly never, for its whole
# life. Fixed: buffers up to 32 MB (glibc's largest) come from the heap, and a heap keeps up to 128 MB free.
_SCRATCH_MMAP = 32 * 1024 * 1024
_SCRATCH_KEEP = 128 * 1024 * 1024
_arenas_limited = False
_import_lock = threading.Lock()
_splitters: dict[str, _SharedSplitter] = {}


def _import_argos(options: EngineOptions) -> Any:
    """Import argostranslate with its settings pointed inside the instance, never the user's home."""
    with _import_lock:
        if "argostranslate.package" not in sys.modules:
            # argostranslate reads these once, at import time, and creates the folders they name.
            base = options.data_dir / "argos"
            os.environ.setdefault("ARGOS_PACKAGES_DIR", str(options.translation.packages_dir))
            os.environ.setdefault("XDG_DATA_HOME", str(base / "data"))
            os.environ.setdefault("XDG_CONFIG_HOME", str(base / "config"))
            os.environ.setdefault("XDG_CACHE_HOME", str(base / "cache"))
        import argostranslate.package
        import argostranslate.sbd

        return argostranslate


def ct2_threads(threads: int) -> tuple[int, int]:
    """(intra_threads, inter_threads) for CTranslate2 given the CPU threads we may use.

    One single-threaded worker per core, each translating its own sub-batch, beats one worker using every core
    for its matrix products: news sentences make small matrices, and beam search has sequential steps
    that intra-op threads cannot share (measured in bench/translate_throughput.py; see bench/README.md).
    """
    return 1, max(1, threads)


def _limit_malloc_arenas(threads: int) -> None:
    """Cap glibc's malloc arenas before CTranslate2 starts its worker threads.

    glibc gives each new thread its own arena and keeps freed scratch memory in it: with five pairs of two
    workers each, the peak RSS nearly doubled (942 MB vs 520 MB, measured; see bench/README.md). This is what
    MALLOC_ARENA_MAX does, set from here so that every way of starting the service gets it. The mmap and trim
    thresholds are fixed too (`_SCRATCH_MMAP`), each unless its environment variable sets it already.
    """
    global _arenas_limited
    if _arenas_limited or not sys.platform.startswith("linux"):
        return
    _arenas_limited = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        if not os.environ.get("MALLOC_ARENA_MAX"):
            libc.mallopt(_M_ARENA_MAX, max(2, threads))
        if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
            libc.mallopt(_M_MMAP_THRESHOLD, _SCRATCH_MMAP)
        if not os.environ.get("MALLOC_TRIM_THRESHOLD_"):
            libc.mallopt(_M_TRIM_THRESHOLD, _SCRATCH_KEEP)
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        log.debug("mallopt unavailable; malloc arenas left as they are")


class _RuleSplitter:
    """Fallback splitter for packages without a bundled MiniSBD model: MiniSBD would download one."""

    def split_sentences(self, text: str) -> list[str]:
        return split_sentences(text)


class _SharedSplitter:
    """One sentence splitter per splitter model file, shared by every pair with the same source language.

    A cycle translates each article into every target language: each text is split once, not once per
    language, and one ONNX session is loaded instead of one per pair.
    """

    def __init__(self, splitter: Any, model_file: Path | None = None) -> None:
        self.splitter = splitter
        self.model_file = model_file  # the file it loads on first use (None: no model file)
        self._cache: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget the texts split so far."""
        with self._lock:
            self._cache.clear()

    def split(self, text: str) -> list[str]:
        """Sentences of text, by the splitter model (cached)."""
        if not _MAYBE_SEVERAL.search(text.rstrip()):
            # MiniSBD costs ~10 µs per character in Python: skip it when there is nothing to cut.
            return [text]
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
            parts = list(self.splitter.split_sentences(text))
            self._cache[text] = parts
            if len(self._cache) > _SPLIT_CACHE_SIZE:
                self._cache.popitem(last=False)
            return parts


class _MiniSbdSplitter:
    """argostranslate's MiniSBD sentencizer (its model, loaded on first use), run by translate/sbd.py: the
    same sentences with a fifth of the Python work."""

    def __init__(self, sentencizer: Any) -> None:
        self.sentencizer = sentencizer
        self._fast: MiniSbd | None = None

    def split_sentences(self, text: str) -> list[str]:
        if self._fast is None:
            self._fast = MiniSbd(self.sentencizer.lazy_detector())
        return self._fast.split(text)


def _shared_splitter(argos: Any, pkg: Any, model_file: Path) -> _SharedSplitter:
    key = hashlib.sha256(model_file.read_bytes()).hexdigest()
    with _import_lock:
        held = _splitters.get(key)
        # The splitter loads its model from the first package that had it, on first use: if that package
        # was removed meanwhile (`models remove`), this one's copy of the same bytes serves instead.
        if held is None or (held.model_file is not None and not held.model_file.exists()):
            sentencizer = _MiniSbdSplitter(argos.sbd.MiniSBDSentencizer(pkg))
            held = _splitters[key] = _SharedSplitter(sentencizer, model_file)
        return held


class ArgosPair:
    """One installed package, loaded: tokenizer, sentence splitter and CTranslate2 translator."""

    engine = "argos"
    pivot = ""

    def __init__(self, pkg_dir: PackageDir, options: EngineOptions) -> None:
        argos = _import_argos(options)
        self.options = options
        self.source, self.target = pkg_dir.source, pkg_dir.target
        self.pkg = argos.package.Package(pkg_dir.path)
        model_bin = pkg_dir.path / "model" / "model.bin"
        size = model_bin.stat().st_size if model_bin.exists() else 0
        self.model_id = f"argos:{self.source}-{self.target}:{pkg_dir.version}:{size}"
        self.version = pkg_dir.version
        bundled = pkg_dir.path / "minisbd"
        # argostranslate's MiniSBDSentencizer loads the first .onnx file listed in the folder.
        onnx = [p for p in os.listdir(bundled) if p.endswith(".onnx")] if bundled.is_dir() else []
        if onnx:
            self.splitter: Any = _shared_splitter(argos, self.pkg, bundled / onnx[0])
        else:
            log.warning(
                "%s has no bundled sentence splitter; splitting %s text on punctuation",
                pkg_dir.path,
                self.source,
            )
            self.splitter = _SharedSplitter(_RuleSplitter())
        self._translator: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        with self._lock:
            if self._translator is None:
                import ctranslate2

                intra, inter = ct2_threads(self.options.translation.threads)
                _limit_malloc_arenas(self.options.translation.threads)
                self._translator = ctranslate2.Translator(
                    str(self.pkg.package_path / "model"),
                    device="cpu",
                    inter_threads=inter,
                    intra_threads=intra,
                )
            return self._translator

    def common_words(self, words: Collection[str]) -> frozenset[str]:
        """Which of these lower-case words the model's vocabulary knows at least as well as their capitalized
        form: SentencePiece spells a frequent form in fewer pieces ("▁London" is one, "london" two)."""
        encode = self.pkg.tokenizer.encode
        return frozenset(w for w in words if len(encode(w)) <= len(encode(w[:1].upper() + w[1:])))

    def split(self, text: str) -> list[str]:
        """Sentences, by the package's own splitter."""
        return [s.strip() for s in self.splitter.split(text) if s.strip()]

    def queue(self) -> ArgosQueue:
        """Batches straight into CTranslate2's own queue: each worker takes the next as it finishes one."""
        return ArgosQueue(self)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """Translate sentences: sorted by length, cut into batches of `translation.batch_tokens`, queued."""
        queue = self.queue()
        try:
            prepared = [queue.prepare(s) for s in sentences]
            order = sorted(range(len(prepared)), key=lambda i: prepared[i][1])
            flights = []
            while order:
                n = cut_batch([prepared[i][1] for i in order], queue.budget)
                batch, order = order[-n:], order[:-n]
                flights.append((batch, queue.submit([prepared[i][0] for i in batch])))
            out = [""] * len(sentences)
            for batch, pending in flights:
                for i, text in zip(batch, pending.result(), strict=True):
                    out[i] = text
            return out
        finally:
            queue.close()


class _Queued:
    """One batch in CTranslate2's queue."""

    def __init__(self, pair: ArgosPair, results: list[Any]) -> None:
        self.pair, self.results = pair, results

    def done(self) -> bool:
        return all(r.done() for r in self.results)

    def result(self) -> list[str]:
        hypotheses = [r.result().hypotheses[0] for r in self.results]
        with stage("detokenize"):
            decode, prefix = self.pair.pkg.tokenizer.decode, self.pair.pkg.target_prefix
            out = []
            for tokens in hypotheses:
                text = decode(tokens)
                if prefix and text.startswith(prefix):
                    text = text[len(prefix) :]
                out.append(text.strip())
        return out


class ArgosQueue:
    """Feeds one pair's CTranslate2 workers: batches are queued asynchronously (no Python thread waits on
    them), each one job for one worker, so a worker that finishes takes the next at once."""

    def __init__(self, pair: ArgosPair) -> None:
        self.pair = pair
        self.model = pair._model()
        t = pair.options.translation
        self.budget, self.beam = t.batch_tokens, t.beam_size
        # Two per worker: one running, one waiting, so a worker never waits for Python to queue the next.
        self.workers = max(1, self.model.num_translators)
        self.depth = 2 * self.workers
        self.encode = pair.pkg.tokenizer.encode
        self.prefix = pair.pkg.target_prefix
        self.queued: list[_Queued] = []

    def prepare(self, sentence: str) -> tuple[object, int]:
        with stage("tokenize"):
            tokens = self.encode(sentence)
        return tokens, len(tokens)

    def submit(self, batch: Sequence[object]) -> _Queued:
        tokens: list[list[str]] = list(batch)  # type: ignore[arg-type]
        longest = max((len(t) for t in tokens), default=0)
        results = self.model.translate_batch(
            tokens,
            target_prefix=[[self.prefix]] * len(tokens) if self.prefix else None,
            beam_size=self.beam,
            max_batch_size=0,  # one job: the batch was cut to size already
            # Bound the output: a damaged or untrained model may never emit </s>.
            max_decoding_length=min(512, 2 * longest + 16),
            replace_unknowns=True,
            length_penalty=0.2,
            asynchronous=True,
        )
        queued = _Queued(self.pair, results)
        self.queued = [q for q in self.queued if not q.done()] + [queued]
        return queued

    def close(self) -> None:
        # CTranslate2 cannot take back a queued job: let it finish rather than leave work behind.
        for queued in self.queued:
            for r in queued.results:
                # The error that matters has reached the caller already.
                with contextlib.suppress(Exception):
                    r.result()
        self.queued = []


@register("argos")
class ArgosEngine:
    """Finds installed packages in the instance's packages folder; pivots through English."""

    name = "argos"

    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self._loaded: dict[Path, ArgosPair] = {}
        self._lock = threading.Lock()

    def _direct(self, source: str, target: str) -> PairTranslator | None:
        # Rescanned on every lookup: a package installed while the service runs is picked up.
        for pkg_dir in scan(self.options.translation.packages_dir)[0]:
            if (pkg_dir.source, pkg_dir.target) == (source, target):
                with self._lock:  # two threads must not load the same model twice
                    if (
                        pkg_dir.path not in self._loaded
                        or self._loaded[pkg_dir.path].version != pkg_dir.version
                    ):
                        self._loaded[pkg_dir.path] = ArgosPair(pkg_dir, self.options)
                    return self._loaded[pkg_dir.path]
        return None

    def pair(self, source: str, target: str) -> PairTranslator | None:
        """A direct package, else two through the pivot language, else None."""
        return find_pair(self._direct, source, target, self.options.translation.pivot)

    def describe(self) -> list[ModelInfo]:
        """Installed packages, and folders that are not valid packages."""
        found, problems = scan(self.options.translation.packages_dir)
        infos = [ModelInfo(p.source, p.target, p.version, p.path, p.size) for p in found]
        infos += [ModelInfo("?", "?", "", None, 0, (msg,)) for msg in problems]
        return infos
