"""Translating one article through a real pair with a glossary written for the test: what the fidelity
tests (test_fidelity_locale.py, test_agreement.py) share."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html

from syndicator.glossary import load_glossary
from syndicator.models import Article
from syndicator.store import Store
from syndicator.translate import PairTranslator
from syndicator.translate.document import Faithful, TranslatedText, translate_articles


def faithful_with(tmp_path: Path, glossary: str) -> Faithful:
    """The instance's glossary file written with this text, then loaded as the service loads it."""
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "glossary.toml").write_text(glossary, encoding="utf-8")
    return Faithful(glossary=load_glossary(tmp_path))


def translate_one(
    tmp_path: Path, pair: PairTranslator, article: Article, faithful: Faithful
) -> TranslatedText:
    """One article through the pipeline's translation, with a fresh memory; it must not fail."""
    (result,) = translate_articles(pair, [article], Store(f"sqlite:///{tmp_path}/s.db"), faithful=faithful)
    assert result.error == "", result.error
    return result


def visible_text(result: TranslatedText) -> str:
    """Title, summary and the body's text as a reader sees them; CLDR's no-break spaces (fr/gl/eo group
    separators, "60 %") read as spaces."""
    body = lxml.html.fragment_fromstring(result.body_html, create_parent="div").text_content()
    return re.sub(r"[\u00a0\u202f]", " ", " ".join([result.title, result.summary, body]))
