"""Deterministic news-like English sentences and articles for the translation benchmarks.

Sentences are unique (the sentence memory would otherwise deduplicate them), contain no abbreviations with a
full stop (every splitter must cut them exactly where the generator ends them) and range from short to long
like a press release. They hold no numbers or dates, which the pipeline would replace with placeholders.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

_SUBJECTS = (
    "The city council",
    "The harbour authority",
    "The regional health office",
    "The ministry of transport",
    "Volunteers from the river district",
    "The national library",
    "Local schools",
    "The weather service",
    "Ferry operators",
    "The mayor",
    "Emergency crews",
    "The culture department",
    "Residents of the old town",
    "The university hospital",
    "Police officers",
)
_VERBS = (
    "announced",
    "confirmed",
    "postponed",
    "approved",
    "reviewed",
    "welcomed",
    "opened",
    "launched",
    "completed",
    "suspended",
)
_OBJECTS = (
    "a new ferry line to the northern islands",
    "the repair of the harbour bridge",
    "a reading programme for young children",
    "the annual culture festival",
    "an advisory about strong winds and heavy rain",
    "extra night buses for the holiday weekend",
    "a plan to plant trees along the main avenue",
    "free vaccination clinics in three districts",
    "the renovation of the central market",
    "a public consultation on cycling lanes",
    "the opening hours of the museum",
    "a water supply test in the western suburbs",
)
_TAILS = (
    "",
    " on Tuesday",
    " after months of debate",
    " in a statement to the press",
    " despite concerns from local businesses",
    " for the second time this year",
    " following a request from residents",
    " at a meeting in the town hall",
)
# No numbers or dates: the pipeline protects those with placeholders, and every contender must send the model
# the very same text for the comparison to be fair.
_EXTRAS = (
    "",
    ", and said that many people would be affected",
    ", with a budget approved by the regional council",
    ", adding that work would start early next month",
    ", according to a spokesperson for the office",
    ", while officials asked the public to check the website for updates",
    ", and more details will follow in the coming {unit}",
)
_UNITS = ("days", "weeks", "months")


def sentences(count: int, seed: int = 0) -> list[str]:
    """`count` unique news-like sentences, the same for the same seed."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        extra = rng.choice(_EXTRAS).format(unit=rng.choice(_UNITS))
        text = (
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}{rng.choice(_TAILS)}{extra}."
        )
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


@dataclass(frozen=True)
class NewsItem:
    """An article's text: one-sentence title and summary, body paragraphs of a few sentences each."""

    title: str
    summary: str
    paragraphs: tuple[tuple[str, ...], ...]

    @property
    def body_html(self) -> str:
        """The body as HTML paragraphs."""
        return "".join(f"<p>{' '.join(p)}</p>" for p in self.paragraphs)

    def all_sentences(self) -> list[str]:
        """Every sentence, title first."""
        return [self.title.rstrip("."), self.summary, *(s for p in self.paragraphs for s in p)]


def articles(pool: list[str], per_article: int = 10, per_paragraph: int = 4) -> list[NewsItem]:
    """Cut a sentence pool into articles that hold every sentence exactly once."""
    items = []
    for start in range(0, len(pool), per_article):
        chunk = pool[start : start + per_article]
        title, summary, body = chunk[0], chunk[1] if len(chunk) > 1 else "", chunk[2:]
        paragraphs = tuple(tuple(body[i : i + per_paragraph]) for i in range(0, len(body), per_paragraph))
        # Headlines carry no full stop.
        items.append(NewsItem(title.rstrip("."), summary, paragraphs))
    return items


# --- the news-like set: what protection works on -------------------------------------------------------------

# Terms of the benchmark's glossary (GLOSSARY): one with a fixed translation, one kept as written.
GLOSSARY = """keep = ["OHA"]

[term."Ocean Harbour Authority"]
fr = "Autorité portuaire de l'Océan"
keep = true
"""
_DECORATIONS = (
    " for {n:,} residents",
    " on {day} March 2026",
    " (see https://news.example.org/{slug}/{n})",
    ", the <em>Ocean Harbour Authority</em> said",
    ' with <a href="https://city.example.org/{slug}">the OHA</a>',
    " at a cost of {n}.{m:02d} million euros",
    "",
)


def news_items(count: int, seed: int = 0) -> list[NewsItem]:
    """Articles of `count` sentences like `sentences()`, most of them carrying numbers, dates, URLs, inline
    HTML or glossary terms: the pipeline protects these (placeholders, the glossary), and falls back to a
    plain translation where the model loses a placeholder. Sentences hold inline HTML: `plain_text()` is what
    a contender that takes text is given."""
    rng = random.Random(seed)
    out = []
    for n, text in enumerate(sentences(count, seed)):
        decoration = _DECORATIONS[n % len(_DECORATIONS)].format(
            n=rng.randrange(2, 9000), m=rng.randrange(100), day=rng.randrange(1, 29), slug=f"item-{n}"
        )
        out.append(text[:-1] + decoration + ".")
    # Headlines are plain text.
    return [replace(item, title=plain_text(item.title)) for item in articles(out)]


def plain_text(sentence: str) -> str:
    """A sentence of `news_items()` without its markup (what a text-only contender translates)."""
    return re.sub(r"<[^>]+>", "", sentence)
