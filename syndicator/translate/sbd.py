"""MiniSBD sentence splitting with its Python work done in NumPy: the same model, the same answers.

minisbd (what argostranslate splits with) turns every character into a Python tuple, runs the splitter's ONNX
model, then walks the characters again to rebuild tokens: about 10 µs of Python per character, which was the
largest cost of the pipeline after the translation model itself (bench/translate_throughput.py prints the
stages). Here the same tensors are built from the text as arrays (one dictionary look-up per distinct
character), the same ONNX session runs on them, and sentences are cut from the model's per-character
classes in one pass over the token ends, not the characters.

The result is the one minisbd gives for the same text (`tests/test_sbd.py` compares them on the tensors and
on the sentences): paragraphs are batched, sorted and padded as minisbd does, since a bidirectional model's
output can depend on the padding. What this does not cover — the dictionary features some languages use,
`skip_newline`, a paragraph longer than the model's window, a feature it does not know — goes to minisbd as it
is (`MiniSbd.split` decides per text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from minisbd.modules.data import NUMERIC_RE
from minisbd.modules.inference import MASK_RE, MAX_SEQ_LENGTH_DEFAULT

# minisbd's paragraph separator and its whitespace (each such character becomes one space).
_PARAGRAPHS = re.compile(r"\n\s*\n")
_KNOWN_FEATURES = {"space_before", "capitalized", "numeric", "end_of_para", "start_of_para"}
# The model's classes per character: 0 inside a token, 1 ends a token, 2 ends a sentence; 3 and 4 the same
# two ends for multi-word tokens.
_PAD = "<PAD>"
_SPACE = ord(" ")
# What any match of minisbd's e-mail and URL pattern contains (its alternatives: an @, http(s)://, www.,
# a name then .gov./.org./... ): that pattern is slow, and most text has none of these.
_MAYBE_MASKED = re.compile(r"@|http|www\.|\.(?:gov|org|edu|net|com|co)\.")
_UNK = "<UNK>"


@dataclass(frozen=True)
class _Paragraph:
    positions: np.ndarray  # where each character is in the text
    units: np.ndarray  # the model's id of each
    feats: np.ndarray  # their character features
    chars: str  # the characters, white space as a space
    codes: np.ndarray  # their code points


class MiniSbd:
    """Splits text with a loaded minisbd `SBDetect` (its ONNX session, config and vocabulary)."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        config = detector.config
        self.session = detector.session
        self.vocab: dict[str, int] = dict(detector.vocab._unit2id)
        self.unk, self.pad = self.vocab[_UNK], self.vocab[_PAD]
        self.batch_size = max(1, int(config.get("batch_size", 1)))
        self.max_seqlen = max(MAX_SEQ_LENGTH_DEFAULT, int(config.get("max_seqlen", MAX_SEQ_LENGTH_DEFAULT)))
        self.no_ssplit = bool(config.get("no_ssplit", False))
        features = list(config.get("feat_funcs", []))
        # minisbd's order: the character features as listed, then end_of_para, then start_of_para.
        self.char_features = [f for f in features if f not in ("end_of_para", "start_of_para")]
        self.end_of_para = "end_of_para" in features
        self.start_of_para = "start_of_para" in features
        self.width = len(self.char_features) + self.end_of_para + self.start_of_para
        # What this class reproduces; anything else is minisbd's own path.
        self.supported = (
            set(features) <= _KNOWN_FEATURES
            and not config.get("use_dictionary", False)
            and not config.get("skip_newline", False)
        )
        self._chars: dict[str, tuple[int, tuple[float, ...], bool]] = {}

    def split(self, text: str) -> list[str]:
        """The sentences minisbd finds in text (substrings of it, as minisbd returns them)."""
        if not self.supported:
            return list(self.detector.sentences(text))
        paragraphs = self._paragraphs(text)
        if any(len(p.chars) + 1 > self.max_seqlen for p in paragraphs):
            return list(self.detector.sentences(text))  # minisbd's sliding window over long paragraphs
        sentences = []
        for paragraph, predicted in zip(paragraphs, self._classify(paragraphs), strict=True):
            sentences += self._cut(text, paragraph, predicted)
        return sentences

    def _char(self, char: str) -> tuple[int, tuple[float, ...], bool]:
        """A character's unit id, its character features and whether it is white space (memoized)."""
        found = self._chars.get(char)
        if found is None:
            space = char.isspace()
            unit = " " if space else char
            feats = []
            for name in self.char_features:
                if name == "space_before":
                    feats.append(1.0 if unit.startswith(" ") else 0.0)
                elif name == "capitalized":
                    feats.append(1.0 if unit[0].isupper() else 0.0)
                else:  # numeric
                    feats.append(1.0 if NUMERIC_RE.match(unit) is not None else 0.0)
            found = (self.vocab.get(unit, self.unk), tuple(feats), space)
            if len(self._chars) < 65536:
                self._chars[char] = found
        return found

    def _table(self, chunk: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per character: unit id, character features, white space (looked up once per distinct character)."""
        codes = np.frombuffer(chunk.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        distinct, index = np.unique(codes, return_inverse=True)
        looked = [self._char(chr(c)) for c in distinct.tolist()]
        units = np.array([u for u, _, _ in looked], dtype=np.int64)[index]
        feats = np.array([f for _, f, _ in looked], dtype=np.float32).reshape(len(looked), -1)[index]
        space = np.array([s for _, _, s in looked], dtype=bool)[index]
        return units, feats, space

    def _paragraphs(self, text: str) -> list[_Paragraph]:
        """Each paragraph as minisbd sees it: white space as one space, a run of it kept as its first."""
        out = []
        start = 0
        bounds = [(m.start(), m.end()) for m in _PARAGRAPHS.finditer(text)] + [(len(text), len(text))]
        for end, after in bounds:
            chunk = text[start:end].rstrip()
            if chunk:
                units, feats, space = self._table(chunk)
                keep = np.ones(len(chunk), dtype=bool)
                keep[1:] = ~(space[1:] & space[:-1])
                codes = np.frombuffer(chunk.encode("utf-32-le", "surrogatepass"), dtype="<u4")[keep]
                codes[space[keep]] = _SPACE
                chars = codes.tobytes().decode("utf-32-le", "surrogatepass")
                out.append(_Paragraph(np.flatnonzero(keep) + start, units[keep], feats[keep], chars, codes))
            start = after
        return out

    def _classify(self, paragraphs: list[_Paragraph]) -> list[np.ndarray]:
        """The model's class per character, batched as minisbd batches: shortest first (a stable sort),
        `batch_size` at a time, padded to the longest plus one."""
        order = sorted(range(len(paragraphs)), key=lambda i: len(paragraphs[i].chars))
        classes: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(paragraphs)
        for first in range(0, len(order), self.batch_size):
            batch = [paragraphs[i] for i in order[first : first + self.batch_size]]
            width = max(len(p.chars) for p in batch) + 1
            units = np.full((len(batch), width), self.pad, dtype=np.int64)
            feats = np.zeros((len(batch), width, self.width), dtype=np.float32)
            for row, p in enumerate(batch):
                n = len(p.chars)
                units[row, :n] = p.units
                feats[row, :n, : p.feats.shape[1]] = p.feats
                column = p.feats.shape[1]
                if self.end_of_para:
                    feats[row, n - 1, column] = 1.0
                    column += 1
                if self.start_of_para:
                    feats[row, 0, column] = 1.0
            predicted = np.argmax(self.session.run(None, {"units": units, "features": feats})[0], axis=2)
            for row, i in enumerate(order[first : first + self.batch_size]):
                n = len(paragraphs[i].chars)
                classes[i] = self._finish(paragraphs[i].chars, predicted[row, :n].copy())
        return classes

    @staticmethod
    def _finish(chars: str, predicted: np.ndarray) -> np.ndarray:
        """minisbd's corrections: the last character ends a sentence; e-mail addresses and URLs are one
        token each."""
        if predicted[-1] < 2:
            predicted[-1] = 2
        elif predicted[-1] > 2:
            predicted[-1] = 4
        if _MAYBE_MASKED.search(chars) is None:
            return predicted
        for match in MASK_RE.finditer(chars):
            begin, end = match.span()
            predicted[begin : end - 1] = 0
            if predicted[end - 1] == 0:
                predicted[end - 1] = 1
        return predicted

    def _cut(self, text: str, paragraph: _Paragraph, predicted: np.ndarray) -> list[str]:
        """Sentences from a paragraph's classes, as minisbd reads them: tokens end where the class is not 0;
        a token of white space only is dropped (and a sentence end with it); a sentence runs from its first
        token's first non-space character to its last token's end."""
        ends = np.flatnonzero(predicted >= 1)
        solid = np.flatnonzero(paragraph.codes != _SPACE)  # characters that are not white space
        starts = np.empty_like(ends)
        starts[0], starts[1:] = 0, ends[:-1] + 1
        # A token's first solid character, and whether it lies inside the token.
        first = np.searchsorted(solid, starts)
        found = first < len(solid)
        first_at = np.where(found, solid[np.minimum(first, len(solid) - 1)], len(predicted))
        kept = first_at <= ends
        ends, first_at = ends[kept], first_at[kept]
        if not len(ends):
            return []
        ending = predicted[ends]
        stops = np.flatnonzero((ending == 2) | (ending == 4)) if not self.no_ssplit else ends[:0]
        last = stops.tolist()
        if not last or last[-1] != len(ends) - 1:
            last.append(len(ends) - 1)
        positions = paragraph.positions
        sentences, begin = [], 0
        for stop in last:
            sentences.append(text[positions[first_at[begin]] : positions[ends[stop]] + 1])
            begin = stop + 1
        return sentences
