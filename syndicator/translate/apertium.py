"""Apertium engine: rule-based, offline translation through the `apertium` command (Debian packages such as
apertium-eng-spa), run in its HTML mode with many sentences per call."""

from __future__ import annotations

import html
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
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
_MODES_DIR = Path("/usr/share/apertium/modes")
_LIST_TIMEOUT = 15.0
_BLOCK = re.compile(r'<p id="s(\d+)">(.*?)</p>', re.DOTALL)
_MARKS = re.compile(r"(?<![\w])[*#@](?=\w)")
_LEADING_UNKNOWN = re.compile(r"^((?:ZXQ\d+[\s,;:]*)+|[^\W\d_]+\s+)([^\W\d_]+)")
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
        self.model_id = f"apertium:{mode}:{version}"

    def split(self, text: str) -> list[str]:
        """Sentences (Apertium itself needs none; the sentence memory does)."""
        return split_sentences(text)

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """All sentences in one call, each in its own numbered <p> so the output splits back reliably."""
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
        return [self._clean(src, html.unescape(found[i])) for i, src in enumerate(sentences)]

    def _run(self, doc: str) -> str:
        # Rule-based: ~thousands of words per second; the bound only catches a hung process.
        timeout = self.timeout + len(doc) / 2000
        try:
            done = subprocess.run(
                [self.binary, "-f", "html", "-u", self.mode],
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
        # -u drops unknown-word marks; strip any left (* unknown, # generation error, @ transfer error).
        text = _MARKS.sub("", text)
        text = re.sub(r"\s+", " ", text).strip()  # a dropped pronoun ("He", "We") leaves a double space
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
        """Installed mode names, from `apertium -l` (e.g. ["eng-spa", "spa-eng"])."""
        binary = self._binary()
        if binary is None:
            return []
        try:
            done = subprocess.run(
                [binary, "-l"], capture_output=True, text=True, timeout=_LIST_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._warn_once("list", f"cannot list apertium modes: {exc}")
            return []
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]

    @staticmethod
    def _mode_for(modes: Sequence[str], source: str, target: str) -> str | None:
        src, tgt = source.split("-")[0], target.split("-")[0]
        for name in (f"{_ISO3.get(src, src)}-{_ISO3.get(tgt, tgt)}", f"{src}-{tgt}"):
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
                f"no apertium mode for {source} → {target}; install the Debian package "
                f"{install_hint(source, target)} (see: apt-cache search apertium)",
            )
            return None
        return ApertiumPair(binary, mode, source, target, _package_version(mode), self.timeout)

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
            infos.append(ModelInfo(src, tgt, _package_version(mode), path if path.exists() else None))
        return infos


def install_hint(source: str, target: str) -> str:
    """The Debian package that would provide a pair, e.g. apertium-eng-spa."""
    src, tgt = (_ISO3.get(x.split("-")[0], x) for x in (source, target))
    return f"apertium-{src}-{tgt}"


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
