"""Fidelity of translations through every installed English→X Apertium pair: the raw engine against Syndicator.

Articles: bench/fidelity/*.md, written for this benchmark (people with honorifics, organisations, acronyms in
brackets, dates, ranges, amounts, URLs); each lists in its front matter the `names` a translation must keep.
Per language, for the raw engine (`apertium -u -f html`, as a new user would run it) and for Syndicator
(`translate_articles` with protection, names and the engine's signals):

- names kept %: occurrences of the listed names that come back written as in the source;
- dates native %: dates whose rendering in the language (preposition included where known) is in the output;
- unknown-word ratio: words Apertium marked (*, #, @) / words (the raw engine's own marks, same pipeline);
- debris: placeholder pieces and mark leftovers a reader would see ("8001", "ZXQ", "point# out", "parquote");
- paragraphs in / out; whether the quality gates pass it (the default unknown-word bound);
- and what the names heuristic froze that is not a listed name ("wrongly frozen").

Run: .venv/bin/python bench/fidelity.py [--tiny] [--json FILE]   (--tiny: one article, what the tests run)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import frontmatter
import lxml.html
from markdown_it import MarkdownIt

from syndicator.config import TranslationConfig
from syndicator.models import Article
from syndicator.settings_table import SETTINGS
from syndicator.store import Store
from syndicator.translate import EngineOptions, quality
from syndicator.translate.apertium import ApertiumEngine, ApertiumPair
from syndicator.translate.dates import find_dates, render
from syndicator.translate.document import Faithful, translate_articles
from syndicator.translate.names import find_names, known_names
from syndicator.translate.protect import TOKEN_RE

ARTICLES = Path(__file__).resolve().parent / "fidelity"
LANGUAGES = ("es", "ca", "gl", "eo", "hr")
DEBRIS = re.compile(r"zxq|[*#@]\w|\w[*#@]|parquote", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MAX_UNKNOWN = next(s.default for s in SETTINGS if s.key == "translation.max_unknown_ratio")


@dataclass
class Tally:
    """Counts for one language and contender."""

    names: int = 0
    names_kept: int = 0
    dates: int = 0
    dates_native: int = 0
    words: int = 0
    unknown: int = 0
    debris: list[str] = field(default_factory=list)
    paragraphs_in: int = 0
    paragraphs_out: int = 0
    failed: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "names_kept": _pct(self.names_kept, self.names),
            "dates_native": _pct(self.dates_native, self.dates),
            "unknown_ratio": round(self.unknown / self.words, 3) if self.words else None,
            "debris": len(self.debris),
            "debris_examples": self.debris[:5],
            "paragraphs": f"{self.paragraphs_in}/{self.paragraphs_out}",
            "failed": self.failed,
        }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def load(paths: list[Path]) -> list[tuple[Article, list[str]]]:
    """The articles and the names each must keep."""
    out = []
    for i, path in enumerate(paths, 1):
        post = frontmatter.load(path)
        when = post["date"].replace(tzinfo=UTC)
        article = Article(
            id=i, source="bench", key=path.stem, language="en", title=str(post["title"]), summary="",
            body_html=MarkdownIt().render(post.content), author="", tags=(), image="", url="",
            published=when, first_seen=when, updated=when, content_hash=path.stem,
        )  # fmt: skip
        out.append((article, [str(n) for n in post["names"]]))
    return out


def _text(html: str) -> str:
    return str(lxml.html.fragment_fromstring(html or "<p></p>", create_parent="div").text_content())


def _count(tally: Tally, article: Article, names: list[str], language: str, title: str, body: str) -> None:
    source = f"{article.title}\n{_text(article.body_html)}"
    output = f"{title}\n{_text(body)}"
    for name in names:
        wanted = len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", source))
        tally.names += wanted
        tally.names_kept += min(wanted, len(re.findall(rf"(?<!\w){re.escape(name)}(?!\w)", output)))
    for found in find_dates(source, article.published.year, language):
        tally.dates += 1
        tally.dates_native += render(found, language) in output
    source_digits = Counter(re.findall(r"\d+", source))
    tally.debris += [m.group() for m in DEBRIS.finditer(EMAIL.sub(" ", output))]
    tally.debris += [m.group() for m in TOKEN_RE.finditer(output) if not source_digits[m.group()]]
    tally.paragraphs_in += article.body_html.count("<p>")
    tally.paragraphs_out += body.count("<p>")


def raw(pair: ApertiumPair, article: Article) -> tuple[str, str, int, int]:
    """The raw engine, as a new user would run it (`-u`), and its marks (a second run without `-u`)."""
    doc = f"<h1>{article.title}</h1>\n{article.body_html}"
    plain = _apertium(pair.mode, doc, "-u")
    marked = _apertium(pair.mode, _text(doc), "")
    words = re.findall(r"(?<![\w*#@])[*#@]*[^\W\d_][\w'’-]*", marked)
    unknown = sum(1 for w in words if w[:1] in "*#@")
    title, _, body = plain.partition("</h1>")
    return title.replace("<h1>", ""), body, len(words), unknown


def _apertium(mode: str, text: str, flag: str) -> str:
    command = ["apertium", "-f", "html", *([flag] if flag else []), mode]
    done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def frozen(articles: list[tuple[Article, list[str]]]) -> dict[str, list[str]]:
    """What the names heuristic keeps as written: listed names, and the rest ("wrongly frozen")."""
    kept, wrong = set(), Counter()
    for article, names in articles:
        text = _text(article.body_html)  # the body: headlines are sentence-cased before names are found
        known = known_names(text)
        listed = set(names)
        for start, end in find_names(text, known):
            span = text[start:end]
            if span in listed or any(span in n for n in listed):
                kept.add(span)
            else:
                wrong[span] += 1
    return {
        "kept": sorted(kept),
        "wrongly_frozen": [f"{s} ×{n}" if n > 1 else s for s, n in wrong.most_common()],
    }


def run(tiny: bool) -> dict[str, Any]:
    paths = sorted(ARTICLES.glob("*.md"))[: 1 if tiny else None]
    articles = load(paths)
    engine = ApertiumEngine(EngineOptions(TranslationConfig(packages_dir=Path(".")), data_dir=Path(".")))
    results: dict[str, Any] = {"articles": len(articles), "languages": {}}
    for language in LANGUAGES:
        pair = engine.pair("en", language)
        if not isinstance(pair, ApertiumPair):
            results["languages"][language] = {"skipped": "no apertium pair installed"}
            continue
        ours, theirs = Tally(), Tally()
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/memory.db")
            translated = translate_articles(pair, [a for a, _ in articles], store, faithful=Faithful())
            store.close()
        for (article, names), result in zip(articles, translated, strict=True):
            _count(ours, article, names, language, result.title, result.body_html)
            ours.words += result.signals.words
            ours.unknown += result.signals.unknown
            problem = quality.signal_problem(result.signals, "apertium", MAX_UNKNOWN) or result.error
            if problem:
                ours.failed.append(f"{article.key}: {problem}")
            title, body, words, unknown = raw(pair, article)
            _count(theirs, article, names, language, title, body)
            theirs.words += words
            theirs.unknown += unknown
        results["languages"][language] = {"mode": pair.mode, "raw": theirs.row(), "syndicator": ours.row()}
    results["names"] = frozen(articles)
    return results


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (raw engine → Syndicator)."""
    lines = [
        "| language (mode) | names kept % | dates native % | unknown-word ratio | debris | paragraphs in/out | "
        "gates |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for language, row in results["languages"].items():
        if "skipped" in row:
            lines.append(f"| {language} | {row['skipped']} | | | | | |")
            continue
        ours = row["syndicator"]
        both = {key: f"{row['raw'][key]} → **{ours[key]}**" for key in ("names_kept", "dates_native",
                                                                       "unknown_ratio", "debris")}  # fmt: skip
        gates = f"fail {len(ours['failed'])}/{results['articles']}" if ours["failed"] else "pass"
        lines.append(
            f"| {language} ({row['mode']}) | {both['names_kept']} | {both['dates_native']} | "
            f"{both['unknown_ratio']} | {both['debris']} | {ours['paragraphs']} | {gates} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="one article (the tests' smoke run)")
    parser.add_argument("--json", type=Path, help="write every number to this file")
    args = parser.parse_args()
    if shutil.which("apertium") is None:
        print("skipped: needs apertium and its English pairs (Debian packages apertium, apertium-eng-spa, …)")
        sys.exit(77)  # skipped (the automake convention; tests/test_bench.py reads it)
    results = run(args.tiny)
    print(f"{results['articles']} article(s); raw engine → Syndicator")
    print(table(results))
    print("names kept as written:", ", ".join(results["names"]["kept"]))
    print("wrongly frozen:", ", ".join(results["names"]["wrongly_frozen"]) or "nothing")
    for language, row in results["languages"].items():
        for failure in row.get("syndicator", {}).get("failed", []):
            print(f"  {language} gated: {failure}")
        for example in row.get("syndicator", {}).get("debris_examples", []):
            print(f"  {language} debris: {example!r}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
