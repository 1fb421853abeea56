"""Per-article language detection with py3langid (its model ships in the wheel: nothing is downloaded)."""

from __future__ import annotations

import functools
from typing import Any

from syndicator.config.languages import primary_language

MIN_CONFIDENCE = 0.8  # below this the source's configured language is kept
MIN_LETTERS = 20  # too little text to judge


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detect_language(text: str, fallback: str, configured: tuple[str, ...] = ()) -> str:
    """The language of `text` when py3langid is confident, else `fallback`.

    A detected code whose base matches a configured one ("pt" for "pt-BR") becomes the configured spelling,
    so the article lands in that language's feed as its original.
    """
    sample = " ".join(text.split())[:5000]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return fallback
    code, confidence = _identifier().classify(sample)
    if confidence < MIN_CONFIDENCE:
        return fallback
    if primary_language(fallback) == code:
        return fallback
    for lang in configured:
        if primary_language(lang) == code:
            return lang
    return str(code)
