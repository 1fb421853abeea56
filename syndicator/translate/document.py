"""Translate whole articles: split into sentences, reuse the sentence memory, batch the rest, reassemble.

HTML structure is kept by translating each text node on its own and putting it back in place; tags,
attributes and links are never shown to the model.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import lxml.html
from lxml import etree

from syndicator.models import Article
from syndicator.translate import PairTranslator

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)
# Text inside these is code or data, not prose: never sent to a model.
_KEEP_TAGS = {"code", "pre", "kbd", "samp", "var", "script", "style"}
# Scripts written without spaces between sentences.
_NO_SPACE_LANGS = {"zh", "ja", "th", "lo", "km", "my"}


class Memory(Protocol):
    """Where translated sentences are remembered (the store)."""

    def memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]: ...
    def memory_store(self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]) -> None: ...
    def memory_count(self, pair: str, hits: int, misses: int) -> None: ...


@dataclass
class TranslatedText:
    """An article's translated fields, or why it failed."""

    article_id: int
    title: str = ""
    summary: str = ""
    body_html: str = ""
    error: str = ""


@dataclass
class _Segment:
    """A run of text to translate, kept with its surrounding whitespace."""

    lead: str
    trail: str
    sentences: list[str] = field(default_factory=list)

    def join(self, done: dict[str, str], target: str) -> str:
        sep = "" if target.split("-")[0] in _NO_SPACE_LANGS else " "
        return self.lead + sep.join(done[sentence_key(s)] for s in self.sentences) + self.trail


def normalize(sentence: str) -> str:
    """The form a sentence is remembered under: whitespace folded."""
    return _SPACE.sub(" ", sentence).strip()


def sentence_key(sentence: str) -> str:
    """Memory key of a sentence."""
    return hashlib.sha256(normalize(sentence).encode("utf-8")).hexdigest()


def _needs_model(text: str) -> bool:
    # Numbers, punctuation and whitespace are the same in every language.
    return any(ch.isalpha() for ch in text)


class _Document:
    """One article cut into segments; HTML text nodes point back into the parsed tree."""

    def __init__(self, article: Article, pair: PairTranslator) -> None:
        self.article = article
        self.title = self._segment(article.title, pair)
        self.summary = self._segment(article.summary, pair)
        self.root = lxml.html.fragment_fromstring(article.body_html or "<p></p>", create_parent="div")
        self.nodes: list[tuple[etree._Element, str, _Segment]] = []
        for el in self.root.iter():
            if not isinstance(el.tag, str):
                continue  # comments, processing instructions
            inside_kept = el.tag in _KEEP_TAGS or any(a.tag in _KEEP_TAGS for a in el.iterancestors())
            if el.text and not inside_kept:
                self.nodes.append((el, "text", self._segment(el.text, pair)))
            if el is not self.root and el.tail and not any(a.tag in _KEEP_TAGS for a in el.iterancestors()):
                self.nodes.append((el, "tail", self._segment(el.tail, pair)))

    @staticmethod
    def _segment(text: str, pair: PairTranslator) -> _Segment:
        match = _EDGES.match(text)
        assert match is not None
        lead, core, trail = match.groups()
        seg = _Segment(lead, trail)
        if core and _needs_model(core):
            seg.sentences = pair.split(core) or [core]
        elif core:
            seg.lead, seg.sentences = lead + core, []
        return seg

    def segments(self) -> list[_Segment]:
        return [self.title, self.summary, *(seg for _, _, seg in self.nodes)]

    def render(self, done: dict[str, str], target: str) -> TranslatedText:
        for el, where, seg in self.nodes:
            setattr(el, where, seg.join(done, target))
        body = (self.root.text or "") + "".join(
            lxml.html.tostring(child, encoding="unicode") for child in self.root
        )
        return TranslatedText(
            article_id=self.article.id,
            title=self.title.join(done, target),
            summary=self.summary.join(done, target),
            body_html=body if self.article.body_html else "",
        )


def translate_articles(
    pair: PairTranslator, articles: Sequence[Article], memory: Memory, batch_size: int = 64
) -> list[TranslatedText]:
    """Translate articles through one pair; each sentence new to this model goes to it exactly once."""
    pair_key = f"{pair.source}>{pair.target}"
    docs: list[_Document] = []
    results: dict[int, TranslatedText] = {}
    for article in articles:
        try:
            docs.append(_Document(article, pair))
        except (etree.ParserError, ValueError) as exc:
            results[article.id] = TranslatedText(article.id, error=f"cannot parse the article's HTML: {exc}")
    wanted: dict[str, str] = {}
    for doc in docs:
        for seg in doc.segments():
            for sentence in seg.sentences:
                wanted.setdefault(sentence_key(sentence), normalize(sentence))
    done = memory.memory_lookup(pair_key, pair.model_id, list(wanted))
    missing = [(key, text) for key, text in wanted.items() if key not in done]
    memory.memory_count(pair_key, hits=len(done), misses=len(missing))
    # Long sentences together and short together: less padding inside each model batch.
    missing.sort(key=lambda kv: len(kv[1]))
    for start in range(0, len(missing), batch_size):
        chunk = missing[start : start + batch_size]
        outputs = pair.translate_batch([text for _, text in chunk])
        rows = [(key, text, out) for (key, text), out in zip(chunk, outputs, strict=True)]
        memory.memory_store(pair_key, pair.model_id, [r for r in rows if r[2].strip()])
        done.update({key: out for key, _, out in rows})
    for doc in docs:
        results[doc.article.id] = doc.render(done, pair.target)
        empty = [s for seg in doc.segments() for s in seg.sentences if not done[sentence_key(s)].strip()]
        if empty:
            results[doc.article.id].error = f"the model returned nothing for {len(empty)} sentence(s)"
    return [results[a.id] for a in articles]
