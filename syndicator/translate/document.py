"""Translate whole articles: protect what must not change, split into sentences, reuse the sentence memory,
batch the rest (the model works on one batch while the next articles are split), restore and reassemble.

Each HTML block (a paragraph, a list item, a heading) goes to the model whole, its inline tags (links,
emphasis) as placeholder tokens, so sentences are not cut at a link. When a block's tokens do not come back
intact, that block falls back to the safe mode: each HTML text node translated on its own, cut at its
protected spans (glossary terms, names, dates, URLs… put back as rendered between the translated pieces), tags,
attributes and placeholders never shown to the model. Damaged output is never published.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import lxml.html
from lxml import etree

from syndicator.config.languages import primary_language
from syndicator.glossary import EMPTY, Glossary
from syndicator.models import Article
from syndicator.translate import (
    ModelQueue,
    PairTranslator,
    Pending,
    Signals,
    cut_batch,
    even_budget,
    mark_reader,
    quality,
)
from syndicator.translate.agreement import agree, agreements
from syndicator.translate.headline import capitalize_first, proper_nouns, sentence_case, title_words
from syndicator.translate.names import known_names
from syndicator.translate.protect import TOKEN_RE, Protected, Protector, globalize, localize
from syndicator.translate.stages import stage
from syndicator.translate.survival import record_for

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?]\s*\Z")
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)\Z", re.DOTALL)
# Text inside these is code or data, not prose: never sent to a model.
_KEEP_TAGS = {"code", "pre", "kbd", "samp", "var", "script", "style"}
# Inside a block these stay whole, as one token: code, images, line breaks.
_ATOMIC = {"code", "kbd", "samp", "var", "img", "br", "wbr"}
# Attributes whose text a reader sees (an image's description, a link's tooltip): translated too.
_TEXT_ATTRIBUTES = ("alt", "title")
_INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "data", "del", "dfn", "em", "i", "ins", "mark", "q", "s",
           "small", "span", "strong", "sub", "sup", "time", "u"} | _ATOMIC  # fmt: skip
# Scripts written without spaces between sentences.
_NO_SPACE_LANGS = {"zh", "ja", "th", "lo", "km", "my"}
# Model calls at once: while one call's last sub-batch keeps one core busy, the next call's feed the other
# (a call returns only when all its sub-batches are done, so one call at a time leaves cores idle).
_IN_FLIGHT = 2
# Batches' worth of sentences kept waiting while every worker is busy: the more to choose from, the more even
# the lengths within a batch (less padding: pools of 45 sentences padded 6% more tokens than one sort of all
# 200, pools of 90 3% more); too many and the model waits for them at the start. 6 measured best of 3, 6, 12
# (pipeline-pool-N in bench/translate_throughput.py).
POOL_BATCHES = 6


class TranslationMemory(Protocol):
    """Where translated sentences are remembered: the translation memory (the store)."""

    def translation_memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]: ...
    def translation_memory_store(
        self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]
    ) -> None: ...
    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None: ...


@dataclass(frozen=True)
class Faithful:
    """What keeps translations faithful: the glossary, protected spans and headline casing."""

    glossary: Glossary = EMPTY
    protect: bool = True  # False: the plain text-node mode only (no placeholders, no dates, no glossary)
    names: bool = True  # protect names beyond the glossary (translate/names.py)
    # The language tags are written in (the site's): an article in another language keeps its tags for
    # the catalogs, as its engine would read them in the wrong language. None: the article's own.
    tags_language: str | None = None


@dataclass
class TranslatedText:
    """An article's translated fields, or why it failed."""

    article_id: int
    title: str = ""
    summary: str = ""
    body_html: str = ""
    error: str = ""
    fallbacks: int = 0  # protected runs whose placeholders did not survive: translated node by node
    signals: Signals = field(default_factory=Signals)  # what the engine's output says about itself
    tags: tuple[str, ...] = ()  # the article's tags, translated (in the article's order)


class _Segment:
    """A run of plain text to translate, kept with its surrounding whitespace.

    Split into sentences on first use: most segments are a protected block's fallback, needed only when the
    block's placeholders do not survive, and sentence splitting is the costliest step before the model.
    """

    def __init__(self, lead: str, trail: str, core: str = "", pair: PairTranslator | None = None) -> None:
        self.lead, self.trail, self.core, self.pair = lead, trail, core, pair
        self._sentences: list[str] | None = None if core else []

    @property
    def sentences(self) -> list[str]:
        """The core's sentences, as the pair splits them."""
        if self._sentences is None:
            assert self.pair is not None
            with stage("split"):
                self._sentences = self.pair.split(self.core) or [self.core]
        return self._sentences

    def join(self, done: dict[str, str], target: str) -> str:
        return self.lead + _sep(target).join(done[sentence_key(s)] for s in self.sentences) + self.trail


class _Pieces:
    """The safe mode's unit: a text node cut at its protected spans, the plain pieces translated on their own
    and the spans put back as rendered (cut on first use, like a segment: most are never needed)."""

    def __init__(self, text: str, pair: PairTranslator, protector: Protector | None) -> None:
        self.text, self.pair, self.protector = text, pair, protector
        self._parts: list[_Segment | tuple[str, bool]] | None = None

    @property
    def parts(self) -> list[_Segment | tuple[str, bool]]:
        """Plain segments and (rendered span, the source began with a capital)."""
        if self._parts is None:
            pieces = self.protector.pieces(self.text) if self.protector else [(self.text, False, False)]
            self._parts = [(t, upper) if kept else _segment(t, self.pair) for t, kept, upper in pieces]
        return self._parts

    @property
    def sentences(self) -> list[str]:
        """The plain pieces' sentences."""
        return [s for part in self.parts if isinstance(part, _Segment) for s in part.sentences]

    def join(self, done: dict[str, str], target: str) -> str:
        out = ""
        for part in self.parts:
            if isinstance(part, _Segment):
                out += part.join(done, target)
                continue
            value, upper = part
            if upper and (not out.strip() or _SENTENCE_END.search(out[-8:])):
                value = capitalize_first(value)
            agreement = self.protector.agreements.get(part[0]) if self.protector else None
            if agreement is not None and self.protector is not None:
                out = agree(out, value, self.protector.language, agreement)
            out += value
        return out


@dataclass
class _Run:
    """A protected run (title, summary or HTML block) and the plain segments it falls back to."""

    prot: Protected
    sentences: list[tuple[str, list[int]]]  # sentence with tokens numbered from 1, and their block numbers
    fallback: list[_Pieces]
    element: etree._Element | None = None  # the HTML block, or None for title and summary
    nodes: list[tuple[etree._Element, str, _Pieces]] = field(default_factory=list)
    result: str | None = None
    direct: bool = False  # sent node by node at once: the model loses placeholders (survival.py)

    def finish(self, done: dict[str, str], target: str) -> None:
        outputs = [
            globalize(done[sentence_key(s)], numbers) if _needs_model(s) else globalize(s, numbers)
            for s, numbers in self.sentences
        ]
        joined = _sep(target).join(outputs)
        self.result = self.prot.restore(
            joined, markup=self.element is not None, spaced=primary_language(target) not in _NO_SPACE_LANGS
        )


def normalize(sentence: str) -> str:
    """The form a sentence is remembered under: whitespace folded."""
    return _SPACE.sub(" ", sentence).strip()


def sentence_key(sentence: str) -> str:
    """Memory key of a sentence."""
    return hashlib.sha256(normalize(sentence).encode("utf-8")).hexdigest()


def _needs_model(text: str) -> bool:
    # Numbers, punctuation, whitespace and placeholders are the same in every language.
    return any(ch.isalpha() for ch in TOKEN_RE.sub("", text))


def _sep(target: str) -> str:
    return "" if primary_language(target) in _NO_SPACE_LANGS else " "


def _segment(text: str, pair: PairTranslator) -> _Segment:
    match = _EDGES.match(text)
    assert match is not None
    lead, core, trail = match.groups()
    if core and _needs_model(core):
        return _Segment(lead, trail, core, pair)
    return _Segment(lead + core, trail)


def _open_tag(el: etree._Element) -> str:
    attrs = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in el.attrib.items())
    return f"<{el.tag}{attrs}>"


def _is_block(el: etree._Element) -> bool:
    if el.tag in _INLINE or el.tag in _KEEP_TAGS:
        return False
    return all(isinstance(d.tag, str) and d.tag in _INLINE for d in el.iterdescendants())


class _Document:
    """One article cut into protected runs and plain segments that point back into the parsed tree."""

    def __init__(
        self,
        article: Article,
        pair: PairTranslator,
        faithful: Faithful,
        common: frozenset[str] | None = None,
    ) -> None:
        """`common`: the lower-case words the engine's dictionary knows (headline casing), if it has one."""
        self.article, self.pair = article, pair
        self.placeholders = record_for(
            pair, pair.model_id, f"{pair.source} → {pair.target} ({pair.model_id})"
        )
        terms = faithful.glossary.for_language(pair.target)
        # An engine may pass some spans through intact on its own (Apertium: numbers); protecting them
        # anyway would only cost grammar ("8002 los residentes").
        skip = frozenset(getattr(pair, "passes_through", ()))
        body_text = _text_of(article.body_html)
        known = (
            known_names(f"{article.summary}\n{body_text}") if faithful.protect and faithful.names else None
        )
        self.protector = None
        if faithful.protect:
            unrendered = faithful.glossary.unrendered(pair.target)
            genders = agreements(pair.target, [r for _, r in terms], faithful.glossary.genders(pair.target))
            self.protector = Protector(
                pair.target, article.published.year, terms, skip, known, unrendered, pair.source, genders
            )
        # A summary or body that repeats the Title Case headline is no evidence that its words are names.
        evidence = f"{article.summary} {body_text}".replace(article.title, " ") if article.title else ""
        names = proper_nouns(evidence)
        title = sentence_case(article.title, names, [t.text for t in faithful.glossary.terms], common)
        self.title = self._plain_run(title)
        self.summary = self._plain_run(article.summary)
        # Tags go to the engine too: feeds show a tag as the glossary fixes it, else as the catalog
        # translates it, else as translated here (publish/entries.py).
        same = faithful.tags_language in (None, article.language)
        self.tags = [self._plain_run(tag) for tag in article.tags] if same else []
        self.root = lxml.html.fragment_fromstring(article.body_html or "<p></p>", create_parent="div")
        self.nodes: list[tuple[etree._Element, str, _Pieces]] = []
        self.blocks: list[_Run] = []
        self._walk(self.root)
        # Text a reader meets in attributes (an image's alt, a link's title): translated like a headline, each
        # distinct text once. Protected blocks carry their tags whole as placeholders, so the values are set
        # on the rendered tree, where every element shows its original text again.
        self.attributes: dict[str, _Run] = {}
        for _, _, value in _text_attributes(self.root):
            if value not in self.attributes:
                self.attributes[value] = self._plain_run(value)

    def _plain_run(self, text: str) -> _Run:
        prot = Protected(self.protector)
        prot.add_text(text)
        return self._run(prot, [_Pieces(text, self.pair, self.protector)])

    def _run(self, prot: Protected, fallback: list[_Pieces]) -> _Run:
        sentences: list[str] = []
        if prot.usable and self.protector and prot.text:
            with stage("split"):
                sentences = self.pair.split(prot.text)
        return _Run(prot, [localize(s) for s in sentences], fallback)

    def _walk(self, el: etree._Element) -> None:
        if el.tag in _KEEP_TAGS:
            return
        if self.protector is not None and _is_block(el):
            prot = Protected(self.protector)
            _fill(prot, el)
            nodes = _text_nodes(el, self.pair, self.protector)
            run = self._run(prot, [seg for _, _, seg in nodes])
            run.element, run.nodes = el, nodes
            self.blocks.append(run)
            return
        if el.text:
            self.nodes.append((el, "text", _Pieces(el.text, self.pair, self.protector)))
        for child in el:
            if isinstance(child.tag, str):
                self._walk(child)
            if child.tail:
                self.nodes.append((child, "tail", _Pieces(child.tail, self.pair, self.protector)))

    def runs(self) -> list[_Run]:
        return [self.title, self.summary, *self.tags, *self.attributes.values(), *self.blocks]

    def first_round(self) -> list[str]:
        """Sentences to translate first: protected runs where possible, plain text elsewhere."""
        wanted = [s for _, _, seg in self.nodes for s in seg.sentences]
        for run in self.runs():
            run.direct = bool(run.sentences and run.prot.spans) and not self.placeholders.try_whole()
            if run.sentences and not run.direct:
                wanted += [s for s, _ in run.sentences if _needs_model(s)]
            else:
                wanted += [s for seg in run.fallback for s in seg.sentences]
        return wanted

    def second_round(self, done: dict[str, str]) -> list[str]:
        """After the first round: runs whose tokens did not survive fall back to plain segments."""
        wanted, lost = [], 0
        for run in self.runs():
            if run.sentences and not run.direct:
                run.finish(done, self.pair.target)
                if run.prot.spans:
                    self.placeholders.record(run.result is not None)
                if run.result is None:
                    lost += 1
                    wanted += [s for seg in run.fallback for s in seg.sentences]
        if lost:
            log.info(
                "%s → %s, article %s: placeholders lost in %d of %d run(s); those are translated node by node",
                self.pair.source, self.pair.target, self.article.key, lost, len(self.runs()),
            )  # fmt: skip
        return wanted

    def used(self) -> list[str]:
        """Every sentence whose translation ends up in the result."""
        used = [s for _, _, seg in self.nodes for s in seg.sentences]
        for run in self.runs():
            if run.result is not None:
                used += [s for s, _ in run.sentences if _needs_model(s)]
            else:
                used += [s for seg in run.fallback for s in seg.sentences]
        return used

    def render(self, done: dict[str, str], target: str) -> TranslatedText:
        for el, where, seg in self.nodes:
            setattr(el, where, seg.join(done, target))
        for run in self.blocks:
            assert run.element is not None
            if run.result is not None:
                _replace_content(run.element, run.result)
            else:
                for el, where, seg in run.nodes:
                    setattr(el, where, seg.join(done, target))
        texts = {
            source: run.result if run.result is not None else run.fallback[0].join(done, target)
            for source, run in self.attributes.items()
        }
        for el, name, value in _text_attributes(self.root):
            if value in texts:
                el.set(name, texts[value].strip())
        body = (self.root.text or "") + "".join(
            lxml.html.tostring(child, encoding="unicode") for child in self.root
        )
        title = (
            self.title.result if self.title.result is not None else self.title.fallback[0].join(done, target)
        )
        summary = self.summary.result
        if summary is None:
            summary = self.summary.fallback[0].join(done, target)
        tags = [
            _like(run.prot.raw[0] if run.prot.raw else "", run.result or run.fallback[0].join(done, target))
            for run in self.tags
        ]
        return TranslatedText(
            article_id=self.article.id,
            title=capitalize_first(title),
            summary=summary,
            body_html=body if self.article.body_html else "",
            tags=tuple(tags),
            fallbacks=sum(1 for r in self.runs() if r.sentences and r.result is None),
        )


def _text_attributes(root: etree._Element) -> list[tuple[etree._Element, str, str]]:
    """(element, attribute, its text) for the attributes a reader sees as text, outside code."""
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in _KEEP_TAGS:
            continue
        if any(a.tag in _KEEP_TAGS for a in el.iterancestors()):
            continue
        for name in _TEXT_ATTRIBUTES:
            value = (el.get(name) or "").strip()
            if value:
                found.append((el, name, value))
    return found


def _like(source: str, translated: str) -> str:
    """A translated tag with its source's initial case ("culture" → "cultura", not "Cultura")."""
    translated = translated.strip()
    if source[:1].islower() and translated[:1].isupper() and not translated[1:2].isupper():
        return translated[:1].lower() + translated[1:]
    return translated


def _fill(prot: Protected, el: etree._Element) -> None:
    """An element's inline content into a protected run: text, and tags as tokens."""
    prot.add_text(el.text or "")
    for child in el:
        if child.tag in _ATOMIC:
            prot.add_tag("void", lxml.html.tostring(child, encoding="unicode", with_tail=False))
        else:
            opened = prot.add_tag("open", _open_tag(child))
            _fill(prot, child)
            prot.pair(opened, prot.add_tag("close", f"</{child.tag}>"))
        prot.add_text(child.tail or "")


def _text_nodes(
    el: etree._Element, pair: PairTranslator, protector: Protector | None
) -> list[tuple[etree._Element, str, _Pieces]]:
    """The safe mode: each text node of an element (not its tail), outside code, on its own."""
    nodes = []
    for node in el.iter():
        if not isinstance(node.tag, str) or node.tag in _KEEP_TAGS:
            continue
        if any(a.tag in _KEEP_TAGS for a in node.iterancestors()):
            continue
        if node.text:
            nodes.append((node, "text", _Pieces(node.text, pair, protector)))
        if node is not el and node.tail:
            nodes.append((node, "tail", _Pieces(node.tail, pair, protector)))
    return nodes


def _replace_content(el: etree._Element, markup: str) -> None:
    fragment = lxml.html.fragment_fromstring(f"<div>{markup}</div>")
    for child in list(el):
        el.remove(child)
    el.text = fragment.text
    for child in list(fragment):
        el.append(child)


def _text_of(body_html: str) -> str:
    if not body_html.strip():
        return ""
    try:
        return str(lxml.html.fragment_fromstring(body_html, create_parent="div").text_content())
    except (etree.ParserError, ValueError):
        return ""


class _ThreadQueue:
    """The model queue of an engine that translates whole calls (Apertium, a pivot): calls of `batch_size`
    sentences on background threads, `_IN_FLIGHT` at once."""

    def __init__(self, pair: PairTranslator, batch_size: int) -> None:
        self.pair, self.budget, self.depth = pair, batch_size, _IN_FLIGHT
        self.workers = _IN_FLIGHT
        self.executor: ThreadPoolExecutor | None = None

    def prepare(self, sentence: str) -> tuple[object, int]:
        return sentence, 1

    def submit(self, batch: Sequence[object]) -> Pending:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=_IN_FLIGHT, thread_name_prefix="translate-batch")
        texts: list[str] = list(batch)  # type: ignore[arg-type]
        return self.executor.submit(self.pair.translate_batch, texts)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class _Batcher:
    """Keeps the model fed while the caller goes on cutting the next documents into sentences.

    Sentences new to the model are prepared as they come (tokenized, for an Argos model), kept sorted by cost
    and sent in batches cut to the model's budget, longest first, so that the model always has `depth`
    batches queued: its workers never wait for Python, and Python never waits for them until the end
    (bench/translate_throughput.py). Memory look-ups and writes stay on the caller's thread; each key is
    claimed when first seen, so a sentence met again while in flight is not sent twice.
    """

    def __init__(
        self,
        pair: PairTranslator,
        translation_memory: TranslationMemory,
        batch_size: int,
        done: dict[str, str],
    ) -> None:
        self.pair, self.translation_memory, self.done = pair, translation_memory, done
        self.save_every = max(1, batch_size)
        make_queue = getattr(pair, "queue", None)
        self.queue: ModelQueue = make_queue() if callable(make_queue) else _ThreadQueue(pair, self.save_every)
        self.pair_key = f"{pair.source}>{pair.target}"
        # An engine that marks what it could not translate: the memory keeps its marks, `done` the clean
        # text, `marks` the counts (words, marked words) per sentence.
        self.reader = mark_reader(pair)
        self.marks: dict[str, tuple[int, int]] = {}
        self.claimed: set[str] = set()  # looked up in the memory already: found, pending or in flight
        # Not yet sent: (cost, key, normalized sentence, prepared), kept sorted by cost when sending.
        self.pending: list[tuple[int, str, str, object]] = []
        self.flights: list[tuple[list[tuple[str, str]], Pending]] = []
        self.unsaved: list[tuple[str, str, str]] = []  # translated, not yet in the memory
        self.hits = self.misses = 0  # memory look-ups not yet added to the store's counters

    def add(self, sentences: Sequence[str]) -> None:
        """Look these sentences up; queue full batches of the missing ones."""
        wanted: dict[str, str] = {}
        with stage("store"):
            for sentence in sentences:
                key = sentence_key(sentence)
                if key not in self.done and key not in self.claimed:
                    wanted.setdefault(key, normalize(sentence))
            if wanted:
                self.claimed.update(wanted)
                found = self.translation_memory.translation_memory_lookup(
                    self.pair_key, self.pair.model_id, list(wanted)
                )
                # Counted with the next save: a write transaction per look-up cost as much as the look-up.
                self.hits += len(found)
                self.misses += len(wanted) - len(found)
        if wanted:
            for key, out in found.items():
                self._accept(key, wanted[key], out)
            for key, text in wanted.items():
                if key not in found:
                    prepared, cost = self.queue.prepare(text)
                    self.pending.append((cost, key, text, prepared))
        self._feed(final=False)

    def hungry(self) -> bool:
        """Whether the model could take another batch now (collects what it finished)."""
        self._collect(wait=False)
        return self._queued() < self.queue.depth

    def _queued(self) -> int:
        return sum(1 for _, pending in self.flights if not pending.done())

    def _feed(self, final: bool) -> None:
        self._collect(wait=False)
        if not self.pending:
            return
        self.pending.sort(key=lambda p: p[0])
        # The last batches are the ones a worker can be left idle beside: cut them even, a share per worker.
        budget = self.queue.budget
        if final:
            budget = even_budget([p[0] for p in self.pending], budget, self.queue.workers)
        while self.pending and (final or self._queued() < self.queue.depth):
            costs = [p[0] for p in self.pending]
            n = cut_batch(costs, budget)
            if not final:
                if n == len(costs) and (n + 1) * costs[-1] <= self.queue.budget:
                    break  # more sentences are coming: wait for a full batch
                if self._queued() >= self.queue.workers and sum(costs) < POOL_BATCHES * self.queue.budget:
                    break  # every worker has a batch: let the pool grow, for batches of more even lengths
            batch, self.pending = self.pending[-n:], self.pending[:-n]
            sent = [(key, text) for _, key, text, _ in batch]
            self.flights.append((sent, self.queue.submit([prepared for *_, prepared in batch])))

    def send_all(self) -> None:
        """Send every sentence waiting for a batch, without waiting for the model."""
        self._feed(final=True)

    def collect_one(self) -> None:
        """Wait for the oldest batch in flight (if any), and take every finished one."""
        self._collect(wait=False, oldest=True)

    def finish(self) -> None:
        """Send what is left and wait until every sentence claimed so far is in `done`."""
        self._feed(final=True)
        self._collect(wait=True)
        self._save()

    def close(self) -> None:
        """Wait for the model to finish what it was given (after an error, its results are dropped)."""
        self.pending, self.flights = [], []
        self.queue.close()

    def _collect(self, wait: bool, oldest: bool = False) -> None:
        """Take the finished batches' outputs (`wait`: every batch's; `oldest`: the oldest's, and any other
        finished)."""
        still = []
        for i, (sent, pending) in enumerate(self.flights):
            if not (wait or (oldest and i == 0) or pending.done()):
                still.append((sent, pending))
                continue
            outputs = pending.result()
            for (key, text), out in zip(sent, outputs, strict=True):
                self._accept(key, text, out)
                if out.strip():
                    self.unsaved.append((key, text, out))
        self.flights = still
        if len(self.unsaved) >= self.save_every:
            self._save()

    def _save(self) -> None:
        with stage("store"):
            if self.unsaved:
                self.translation_memory.translation_memory_store(
                    self.pair_key, self.pair.model_id, self.unsaved
                )
                self.unsaved = []
            if self.hits or self.misses:
                self.translation_memory.translation_memory_count(self.pair_key, self.hits, self.misses)
                self.hits = self.misses = 0

    def _accept(self, key: str, source: str, output: str) -> None:
        if self.reader is None:
            self.done[key] = output
            return
        clean, words, marked = self.reader.read_marks(source, output)
        self.done[key] = clean
        self.marks[key] = (words, marked)

    def signals(self, sentences: Sequence[str]) -> Signals:
        """The engine's signals over these sentences (translated, in `done`)."""
        found = Signals(marked=self.reader is not None)
        for sentence in sentences:
            key = sentence_key(sentence)
            words, marked = self.marks.get(key, (0, 0))
            found.words += words
            found.unknown += marked
            output = self.done[key]
            if quality.loops(output) and not quality.loops(sentence):
                found.looping += 1
            if quality.ordinary_words(sentence) >= quality.MIN_WORDS_FOR_UNCHANGED:
                found.sentences += 1
                found.copied += quality.copied(sentence, output)
        return found


def _common_words(pair: PairTranslator, articles: Sequence[Article]) -> frozenset[str] | None:
    """The headline words the engine's dictionary knows as ordinary lower-case words (one look-up for all
    articles), or None when the engine has no dictionary."""
    lookup = getattr(pair, "common_words", None)
    if not callable(lookup):
        return None
    words = {w for article in articles for w in title_words(article.title)}
    known = lookup(words) if words else frozenset()
    return None if known is None else frozenset(known)


def _second_round(batcher: _Batcher, docs: Sequence[_Document], first: Sequence[Sequence[str]]) -> None:
    """Send the rest of the first round, then each document's second round (the runs whose placeholders did
    not survive, node by node) as soon as its first round is back: the model goes on with other documents'
    first round meanwhile instead of waiting, idle, for the slowest batch of it."""
    batcher.send_all()
    waiting = list(range(len(docs)))
    while waiting:
        back = not batcher.flights  # then every sentence sent is back
        ready = [i for i in waiting if back or all(k in batcher.done for k in first[i])]
        if not ready:
            batcher.collect_one()
            continue
        taken = set(ready)
        waiting = [i for i in waiting if i not in taken]
        with stage("restore"):
            again = [s for i in ready for s in docs[i].second_round(batcher.done)]
        batcher.add(again)
    batcher.finish()


def translate_articles(
    pair: PairTranslator,
    articles: Sequence[Article],
    translation_memory: TranslationMemory,
    batch_size: int = 64,
    faithful: Faithful | None = None,
) -> list[TranslatedText]:
    """Translate articles through one pair; each sentence new to this model goes to it exactly once."""
    faithful = faithful or Faithful()
    docs: list[_Document] = []
    results: dict[int, TranslatedText] = {}
    done: dict[str, str] = {}
    first: list[list[str]] = []  # each document's first-round keys
    batcher = _Batcher(pair, translation_memory, batch_size, done)
    common = _common_words(pair, articles)
    try:
        group: list[str] = []
        for article in articles:
            try:
                with stage("protect"):
                    doc = _Document(article, pair, faithful, common)
            except (etree.ParserError, ValueError) as exc:
                results[article.id] = TranslatedText(
                    article.id, error=f"cannot parse the article's HTML: {exc}"
                )
                continue
            docs.append(doc)
            wanted = doc.first_round()
            first.append([sentence_key(s) for s in wanted])
            group += wanted
            # A batch's worth of sentences, or the model idle: look them up, let the model start on them
            # while the next articles are split.
            if len(group) >= batch_size or (group and batcher.hungry()):
                batcher.add(group)
                group = []
        batcher.add(group)
        _second_round(batcher, docs, first)
    finally:
        batcher.close()
    with stage("restore"):
        for doc in docs:
            results[doc.article.id] = doc.render(done, pair.target)
            used = doc.used()
            results[doc.article.id].signals = batcher.signals(used)
            empty = [s for s in used if not done[sentence_key(s)].strip()]
            if empty:
                results[doc.article.id].error = f"the model returned nothing for {len(empty)} sentence(s)"
    return [results[a.id] for a in articles]
