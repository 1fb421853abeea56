"""Apertium engine: rule-based, offline translation through the `apertium` command (Debian packages such as
apertium-eng-spa), run in its HTML mode with many sentences per call."""

from __future__ import annotations

import functools
import html
import logging
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Collection, Sequence
from pathlib import Path

from syndicator.errors import TranslationError
from syndicator.translate import EngineOptions, ModelInfo, register
from syndicator.translate.headline import capitalize_first
from syndicator.translate.sentences import split_sentences

log = logging.getLogger(__name__)

# ISO 639-1 → the ISO 639-3 codes Apertium names its pairs with (older pairs use the 639-1 codes).
_ISO3 = {"en": "eng", "es": "spa", "fr": "fra", "ca": "cat", "pt": "por", "it": "ita", "gl": "glg", "eu": "eus",
         "eo": "epo", "oc": "oci", "an": "arg", "ro": "ron", "de": "deu", "nl": "nld", "is": "isl", "mk": "mkd",
         "sh": "hbs", "sr": "hbs", "hr": "hbs", "bs": "hbs", "ast": "ast", "sc": "srd", "frp": "frp",
         "ru": "rus", "ar": "ara", "zh": "zho", "ja": "jpn", "ko": "kor", "pl": "pol", "uk": "ukr"}  # fmt: skip
# Serbo-Croatian pairs come in standard variants (eng-hbs_HR…): each language gets its own.
_VARIANTS = {"hr": "HR", "sr": "SR", "bs": "BS"}
# Debian names a package after the pair it was first made for, whatever direction is asked.
_PACKAGES = {("en", "es"): "apertium-eng-spa", ("en", "ca"): "apertium-eng-cat", ("en", "gl"): "apertium-en-gl",
             ("en", "eo"): "apertium-eo-en", ("en", "hr"): "apertium-hbs-eng", ("en", "sr"): "apertium-hbs-eng",
             ("en", "bs"): "apertium-hbs-eng", ("en", "sh"): "apertium-hbs-eng"}  # fmt: skip
_MODES_DIR = Path("/usr/share/apertium/modes")
MODES_MAX_AGE = 300.0  # seconds: the longest an `apertium -l` answer is reused (see ApertiumEngine.__init__)
_LIST_TIMEOUT = 15.0
_ANALYSIS = re.compile(r"\^([^/$]*)/([^$]*)\$")
_BLOCK = re.compile(r'<p id="s(\d+)">(.*?)</p>', re.DOTALL)
# Apertium's marks: *unknown word (copied from the source), #generation failure (a bare lemma), @transfer
# failure (no bilingual entry: the English word). Counted, then removed wherever they stick to a word
# ("#reći", "point# out", "grad@'s").
_MARK = re.compile(r"[*#@]+(?=[\w.,;:!?'\"”’)])|(?<=[\w.,;:!?'\"”’(])[*#@]+")
_MARKED_WORD = re.compile(r"(?<![\w*#@])[*#@]+[^\W\d_]")
_WORDS = re.compile(r"(?<![\w*#@])[*#@]*[^\W\d_][\w'’-]*")
_LEADING_MARK = re.compile(r"(?<![\w*#@])[*#@]+(?=\w)")
_SPACES = re.compile(r"\s+")
_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
# Lemmas of punctuation that leak out of a transfer failure (eng-hbs: '"' comes back as "@parquote").
_LEAKED = re.compile(r"[*#@]*parquote[*#@]*")
_LEADING_UNKNOWN = re.compile(r"^((?:8\d{3,}[\s,;:]*)+|[^\W\d_]+\s+)([^\W\d_]+)")
_SPACE_AFTER_OPENING = re.compile(r"""(?:(?<=^)|(?<=\s))(["“«¿¡(])\s+""")


class ApertiumPair:
    """One installed Apertium mode (e.g. eng-spa), called as a subprocess."""

    engine = "apertium"
    pivot = ""
    passes_through = frozenset({"number"})  # measured: 1,250 / 3.5 / 60% come back intact, grammar intact

    def __init__(
        self, binary: str, mode: str, source: str, target: str, version: str, timeout: float
    ) -> None:
        self.binary, self.mode, self.source, self.target = binary, mode, source, target
        self.version, self.timeout = version, timeout
        # ":marked": the memory holds Apertium's output with its marks (read_marks counts them each time);
        # entries from before marks were kept must not be taken for clean output.
        self.model_id = f"apertium:{mode}:{version}:marked"

    def split(self, text: str) -> list[str]:
        """Sentences (Apertium itself needs none; the sentence memory does)."""
        return split_sentences(text)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """All sentences in one call, each in its own numbered <p> so the output splits back reliably.

        The output keeps Apertium's marks (*, #, @): `read_marks` counts and removes them.
        """
        if not sentences:
            return []
        doc = "\n".join(f'<p id="s{i}">{html.escape(s, quote=False)}</p>' for i, s in enumerate(sentences))
        out = self._run(doc)
        found = {int(m.group(1)): m.group(2) for m in _BLOCK.finditer(out)}
        if sorted(found) != list(range(len(sentences))):
            raise TranslationError(
                f"apertium {self.mode} returned {len(found)} of {len(sentences)} sentence blocks",
                hint="check the apertium installation with: echo test | apertium -f html " + self.mode,
            )
        return [html.unescape(found[i]).strip() for i in range(len(sentences))]

    def read_marks(self, source: str, output: str) -> tuple[str, int, int]:
        """(clean text, words, marked words) of one output of translate_batch."""
        words = _WORDS.findall(output)
        marked = sum(1 for w in words if _MARKED_WORD.match(w))
        return self._clean(source, output), len(words), marked

    def common_words(self, words: Collection[str]) -> frozenset[str] | None:
        """Which of these lower-case words the pair's English analyser knows as they are (its dictionary
        spells names with their capital: "lisbon" is unknown, "library" known). One lt-proc call; None
        when the analyser cannot be run (headlines then fall back to the article's own text)."""
        analyser = _analyser(self.mode)
        if analyser is None:
            return None
        if not words:
            return frozenset()
        found = _analyse(analyser, words, self.timeout)
        if found is None:
            return None
        return frozenset(w for w, readings in found.items() if any(not r.startswith("*") for r in readings))

    def _run(self, doc: str) -> str:
        # Rule-based: ~thousands of words per second; the bound only catches a hung process.
        timeout = self.timeout + len(doc) / 2000
        try:
            done = subprocess.run(
                [self.binary, "-f", "html", self.mode],
                input=doc,
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TranslationError(f"apertium {self.mode} took longer than {timeout:.0f} s") from exc
        except OSError as exc:
            raise TranslationError(f"cannot run {self.binary}: {exc.strerror}") from exc
        if done.returncode != 0:
            raise TranslationError(f"apertium {self.mode} failed: {done.stderr.strip()[:300]}")
        return done.stdout

    @staticmethod
    def _clean(source: str, text: str) -> str:
        text = _LEAKED.sub('"', text)
        # A source with such characters of its own ("#1 hit", "*terms apply"): only the marks before words.
        marks = _LEADING_MARK if any(ch in source for ch in "*#@") else _MARK
        text = marks.sub("", text)
        if ".." not in source:
            text = _DOUBLE_STOP.sub(".", text)  # eng-hbs ends sentences with ".."
        text = _SPACES.sub(" ", text).strip()  # a dropped pronoun ("He", "We") leaves a double space
        text = _SPACE_AFTER_OPENING.sub(r"\1", text)  # '" Queremos' → '"Queremos'
        # After an unknown word at the start (a placeholder, "Gusts"), Apertium capitalizes the next word.
        src, out = _LEADING_UNKNOWN.match(source), _LEADING_UNKNOWN.match(text)
        if (
            src
            and out
            and src.group(1) == out.group(1)
            and src.group(2)[:1].islower()
            and out.group(2).istitle()
        ):
            text = text[: out.start(2)] + out.group(2)[:1].lower() + text[out.start(2) + 1 :]
        # A dropped sentence-initial word ("There will be" → "habrá") leaves a lower-case start.
        first_src = next((c for c in source if c.isalpha()), "")
        if first_src.isupper():
            text = capitalize_first(text)
        return text


@register("apertium")
class ApertiumEngine:
    """Finds installed Apertium modes; no binary or no mode for a pair means no model, never a crash."""

    name = "apertium"

    def __init__(self, options: EngineOptions, binary: str = "apertium", timeout: float = 60.0) -> None:
        self.options, self.binary_name, self.timeout = options, binary, timeout
        self._warned: set[str] = set()
        # What `apertium -l` and dpkg-query said, and when: asked again only when the modes folder changed
        # (a pair installed or upgraded) or the answer is older than MODES_MAX_AGE. Every unit and every
        # status render asks for pairs; spawning two processes each time was most of their cost.
        self._lock = threading.Lock()
        self._modes: tuple[object, list[str]] | None = None
        self._versions: dict[str, str] = {}

    def _binary(self) -> str | None:
        found = shutil.which(self.binary_name)
        if found is None:
            self._warn_once(
                "binary",
                "the apertium command is not installed; install the Debian packages apertium and "
                "apertium-eng-spa (or the pair you need)",
            )
        return found

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)

    def modes(self) -> list[str]:
        """Installed mode names, from `apertium -l` (e.g. ["eng-spa", "spa-eng"]); remembered (see __init__)."""
        binary = self._binary()
        if binary is None:
            return []
        stamp = (binary, _mtime_ns(_MODES_DIR), int(time.monotonic() // MODES_MAX_AGE))
        with self._lock:
            if self._modes is None or self._modes[0] != stamp:
                listed = self._list_modes(binary)
                if listed is None:
                    return []  # not remembered: the next call tries again
                self._modes = (stamp, listed)
                self._versions.clear()
            return self._modes[1]

    def _version(self, mode: str) -> str:
        with self._lock:
            if mode not in self._versions:
                self._versions[mode] = _package_version(mode)
            return self._versions[mode]

    def _list_modes(self, binary: str) -> list[str] | None:
        try:
            done = subprocess.run(
                [binary, "-l"], capture_output=True, text=True, timeout=_LIST_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._warn_once("list", f"cannot list apertium modes: {exc}")
            return None
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]

    @staticmethod
    def _mode_for(modes: Sequence[str], source: str, target: str) -> str | None:
        src, tgt = source.split("-")[0], target.split("-")[0]
        names = [f"{_ISO3.get(src, src)}-{_ISO3.get(tgt, tgt)}", f"{src}-{tgt}"]
        if tgt in _VARIANTS:  # Croatian from eng-hbs_HR, not the pair's default standard
            names.insert(0, f"{names[0]}_{_VARIANTS[tgt]}")
        for name in names:
            if name in modes:
                return name
        return None

    def pair(self, source: str, target: str) -> ApertiumPair | None:
        """The mode translating source → target, or None (logged once) when it is not installed."""
        binary = self._binary()
        if binary is None:
            return None
        mode = self._mode_for(self.modes(), source, target)
        if mode is None:
            self._warn_once(
                f"{source}-{target}",
                f"no apertium mode for {source} → {target}; {install_hint(source, target)}",
            )
            return None
        return ApertiumPair(binary, mode, source, target, self._version(mode), self.timeout)

    def describe(self) -> list[ModelInfo]:
        """Installed modes whose languages we can name."""
        by_iso3 = {v: k for k, v in _ISO3.items() if k not in ("sr", "hr", "bs")}
        infos = []
        for mode in self.modes():
            parts = mode.split("-")
            if len(parts) != 2 or "_" in mode:
                continue  # variants such as spa-eng_US
            src, tgt = (by_iso3.get(p, p) for p in parts)
            path = _MODES_DIR / f"{mode}.mode"
            infos.append(ModelInfo(src, tgt, self._version(mode), path if path.exists() else None))
        return infos


@functools.lru_cache(maxsize=64)
def _analyser(mode: str) -> tuple[str, ...] | None:
    """The first stage of a mode's pipeline: the source-language analyser (lt-proc … automorf.bin)."""
    try:
        pipeline = (_MODES_DIR / f"{mode}.mode").read_text(encoding="utf-8")
    except OSError:
        return None
    first = shlex.split(pipeline.split("|", 1)[0])
    if not first or first[0] != "lt-proc" or not first[-1].endswith(".bin"):
        return None
    return ("lt-proc", first[-1])


def analyse(language: str, words: Collection[str], timeout: float = 15.0) -> dict[str, list[str]] | None:
    """Each word's readings by the morphological analyser of `language` ("Autoridad" →
    ["Autoridad<n><f><sg>"]; an unknown word: ["*Autoridad"]), or None when no installed pair ships one or it
    cannot be run. A pair ships the analysers of both its languages: apertium-eng-spa's spa-eng mode reads
    Spanish."""
    analyser = _analyser_of(language, _mtime_ns(_MODES_DIR))
    if analyser is None:
        return None
    return _analyse(analyser, words, timeout) if words else {}


@functools.lru_cache(maxsize=64)
def _analyser_of(language: str, _stamp: int | None) -> tuple[str, ...] | None:
    """The analyser of the first mode (by name) that reads `language`; `_stamp`: the modes folder's mtime, so
    a pair installed meanwhile is found."""
    base = language.replace("_", "-").split("-")[0]
    names = {base, _ISO3.get(base, base)}
    try:
        modes = sorted(p.stem for p in _MODES_DIR.glob("*.mode"))
    except OSError:
        return None
    for mode in modes:
        if mode.split("-")[0] in names and "_" not in mode:
            found = _analyser(mode)
            if found is not None:
                return found
    return None


def _analyse(
    analyser: tuple[str, ...], words: Collection[str], timeout: float
) -> dict[str, list[str]] | None:
    """One lt-proc call for all words (null-separated: a word with a space is one entry)."""
    ordered = sorted(w for w in words if w and "\0" not in w)
    try:
        done = subprocess.run(
            [*analyser, "-z"],
            input="\0".join(ordered) + "\0",
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("cannot run the analyser %s: %s", analyser[-1], exc)
        return None
    if done.returncode != 0:
        log.warning("the analyser %s failed: %s", analyser[-1], done.stderr.strip()[:200])
        return None
    found: dict[str, list[str]] = {}
    for m in _ANALYSIS.finditer(done.stdout):
        found.setdefault(m.group(1), []).extend(m.group(2).split("/"))
    return found


def known_package(source: str, target: str) -> str | None:
    """The Debian package known to ship source → target (either direction: a package carries both), or None.

    Only the pairs the project documents and tests (docs/translation.md): a name built from the language codes
    is often not a package at all (Debian has no apertium-eng-fra), and naming one sends people hunting."""
    src, tgt = source.split("-")[0], target.split("-")[0]
    return _PACKAGES.get((src, tgt)) or _PACKAGES.get((tgt, src))


def install_hint(source: str, target: str) -> str:
    """What to do about a missing source → target Apertium pair: the package when one is known to exist,
    else how to look for one, and the Argos engine."""
    known = known_package(source, target)
    if known:
        return f"install the Debian package {known}"
    return (
        f"no Apertium package known to cover {source} → {target} (look with: apt-cache search apertium); or "
        f'translate it with Argos: [translation.engines] {target} = "argos"'
    )


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _package_version(mode: str) -> str:
    """The Debian version of the package that ships a mode (either direction), or 'unknown'."""
    a, _, b = mode.partition("-")
    b = b.split("_")[0]
    for package in (f"apertium-{a}-{b}", f"apertium-{b}-{a}"):
        try:
            done = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", package],
                capture_output=True,
                text=True,
                timeout=_LIST_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return "unknown"
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return "unknown"
