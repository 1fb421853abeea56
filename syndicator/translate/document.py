"""Translate whole articles: protect what must not change, split into sentences, reuse the sentence memory,
batch the rest (the model works on one batch while the next articles are split), restore and reassemble.

Each HTML block (a paragraph, a list item, a heading) goes to the model whole, its inline tags (links,
emphasis) as placeholder tokens, so sentences are not cut at a link. When a block's tokens do not come back
intact, that block falls back to the safe mode: each HTML text node translated on its own, cut at its
protected spans (glossary terms, names, dates, URLs… put back as rendered between the translated pieces), tags,
attributes and placeholders never shown to the model. Damaged output is never published.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from syndicator.config.languages import primary_language
from syndicator.glossary import EMPTY, Glossary
from syndicator.models import Article
from syndicator.translate import PairTranslator, Signals
from syndicator.translate.agreement import agree, agreements
from syndicator.translate.batching import Batcher, TranslationMemory, sentence_key
from syndicator.translate.headline import capitalize_first, proper_nouns, sentence_case, title_words
from syndicator.translate.names import known_names
from syndicator.translate.protect import TOKEN_RE, Protected, Protector, globalize, localize
from syndicator.translate.stages import stage
from syndicator.translate.survival import record_for

log = logging.getLogger(__name__)

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
    waiting: list[str] | None = None  # sent whole, not yet put together: the keys of its sentences

    def finish(self, done: dict[str, str], target: str) -> None:
        outputs = [
            globalize(done[sentence_key(s)], numbers) if _needs_model(s) else globalize(s, numbers)
            for s, numbers in self.sentences
        ]
        joined = _sep(target).join(outputs)
        self.result = self.prot.restore(
            joined, markup=self.element is not None, spaced=primary_language(target) not in _NO_SPACE_LANGS
        )


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
        self.lost = 0  # runs whose placeholders were lost, not yet logged
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

    def first_round(self) -> tuple[list[str], list[str]]:
        """Sentences to translate first: protected runs where possible, plain text elsewhere. Two lists: the
        sentences of runs with placeholders, which the model may lose (then the run goes again, node by node),
        and the rest."""
        risky: list[str] = []
        wanted = [s for _, _, seg in self.nodes for s in seg.sentences]
        for run in self.runs():
            run.direct = bool(run.sentences and run.prot.spans) and not self.placeholders.try_whole()
            if run.sentences and not run.direct:
                whole = [s for s, _ in run.sentences if _needs_model(s)]
                run.waiting = [sentence_key(s) for s in whole]
                (risky if run.prot.spans else wanted).extend(whole)
            else:
                wanted += [s for seg in run.fallback for s in seg.sentences]
        return risky, wanted

    def second_round(self, done: dict[str, str], *, all_back: bool = False) -> list[str]:
        """The runs sent whole whose sentences are all back (`all_back`: every one) are put together; those
        whose tokens did not survive fall back to plain segments, whose sentences are returned."""
        wanted = []
        for run in self.runs():
            if run.waiting is None or not (all_back or all(k in done for k in run.waiting)):
                continue
            run.waiting = None
            run.finish(done, self.pair.target)
            if run.prot.spans:
                self.placeholders.record(run.result is not None)
            if run.result is None:
                self.lost += 1
                wanted += [s for seg in run.fallback for s in seg.sentences]
        if self.lost and self.settled():
            log.info(
                "%s → %s, article %s: placeholders lost in %d of %d run(s); those are translated node by node",
                self.pair.source, self.pair.target, self.article.key, self.lost, len(self.runs()),
            )  # fmt: skip
            self.lost = 0  # logged once
        return wanted

    def settled(self) -> bool:
        """Whether every run is put together or known to go node by node: no second round can come."""
        return all(run.waiting is None for run in self.runs())

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


def _common_words(pair: PairTranslator, articles: Sequence[Article]) -> frozenset[str] | None:
    """The headline words the engine's dictionary knows as ordinary lower-case words (one look-up for all
    articles), or None when the engine has no dictionary."""
    lookup = getattr(pair, "common_words", None)
    if not callable(lookup):
        return None
    words = {w for article in articles for w in title_words(article.title)}
    known = lookup(words) if words else frozenset()
    return None if known is None else frozenset(known)


def _second_round(batcher: Batcher, docs: Sequence[_Document]) -> None:
    """Each run's second round (node by node, when its placeholders did not survive) as soon as its first
    round is back: the model goes on with the first round meanwhile, and the second round's sentences join
    the pool still waiting, instead of running alone at the end while a worker waits."""
    batcher.close_pool()
    waiting = list(docs)
    while True:
        with stage("restore"):
            back = batcher.idle()  # then every sentence sent is back
            again = [s for doc in waiting for s in doc.second_round(batcher.done, all_back=back)]
            waiting = [doc for doc in waiting if not doc.settled()]
        batcher.add(again)
        if not waiting:
            break
        batcher.collect_one()
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
    batcher = Batcher(pair, translation_memory, batch_size, done)
    common = _common_words(pair, articles)
    try:
        group: list[str] = []
        early: list[str] = []  # sentences of runs that may need a second round: they go first
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
            risky, wanted = doc.first_round()
            early += risky
            group += wanted
            # A batch's worth of sentences, or the model idle: look them up, let the model start on them
            # while the next articles are split.
            if len(group) + len(early) >= batch_size or ((group or early) and batcher.hungry()):
                batcher.add(group, early)
                group, early = [], []
        batcher.add(group, early)
        _second_round(batcher, docs)
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
