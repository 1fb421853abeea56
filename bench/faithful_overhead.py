"""What protection costs outside the model: placeholders, dates, glossary and block restore vs the plain mode.

Run: .venv/bin/python bench/faithful_overhead.py [ARTICLES]
Uses the pseudo engine (no model time) on the example articles, so the difference is all ours. Both modes
are measured side by side in one run; the machine is shared, so read the ratio, not the absolute times.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import frontmatter
from markdown_it import MarkdownIt

from syndicator.glossary import load_glossary
from syndicator.models import Article
from syndicator.translate.document import Faithful, translate_articles
from syndicator.translate.pseudo import PseudoPair

ROOT = Path(__file__).resolve().parent.parent


class _NoMemory:
    def translation_memory_lookup(self, pair: str, model: str, hashes: object) -> dict[str, str]:
        return {}

    def translation_memory_store(self, pair: str, model: str, rows: object) -> None:
        pass

    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None:
        pass


def _articles(n: int) -> list[Article]:
    md = MarkdownIt()
    posts = [frontmatter.load(p) for p in sorted((ROOT / "articles").glob("*.md"))]
    now = datetime(2026, 3, 3, tzinfo=UTC)
    articles = []
    for i, post in zip(range(n), posts * n, strict=False):
        fields = {"title": str(post["title"]), "summary": str(post.get("summary", ""))}
        articles.append(
            Article(i, "s", f"k{i}", "en", body_html=md.render(post.content), author="", tags=(), image="",
                    url="", published=now, first_seen=now, updated=now, content_hash=str(i), **fields)
        )  # fmt: skip
    return articles


def main() -> None:
    """Time both modes and print the ratio."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    articles = _articles(n)
    modes = {"plain": Faithful(protect=False), "faithful": Faithful(load_glossary(ROOT))}
    times = {}
    for name, faithful in modes.items():
        start = time.perf_counter()
        for target in ("fr", "es", "zh"):
            translate_articles(PseudoPair("en", target), articles, _NoMemory(), faithful=faithful)
        times[name] = time.perf_counter() - start
    print(f"{n} articles x 3 languages, pseudo engine (no model time)")
    for name, seconds in times.items():
        print(f"  {name:9} {seconds:6.2f} s  ({3 * n / seconds:7.1f} articles/s)")
    print(f"  faithful / plain: {times['faithful'] / times['plain']:.2f}x")


if __name__ == "__main__":
    main()
