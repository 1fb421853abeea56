"""Why a language has nothing to show, said in that language: an empty feed is a dead end unless it explains
itself. The reason goes into the current feed's description (RSS description, Atom subtitle, JSON Feed
description: so also the feed's styled view) and onto the landing page.

It is derived from what the store records, never guessed: how many articles there are, and this language's
translations by status, which the translation stage wrote when it tried the engine (`no-model` when the
engine has no model for the pair or cannot run, `failed` when a translation was refused by the quality
gate, `pending` while it waits). The reason names a state, never a time or a count, so the feed's bytes stay
the same while the state does (unchanged files are not rewritten).
"""

from __future__ import annotations

from collections.abc import Mapping

from syndicator.config import Config
from syndicator.localize import N_
from syndicator.models import FAILED, NO_MODEL, PENDING
from syndicator.store import Store

# Translators: shown on an empty feed and on the landing page when the service has stored no article yet
# (or none that may be shown publicly).
NO_ARTICLES = N_("No articles have been published yet.")
# Translators: shown on an empty feed of a translated language while articles wait in the translation queue.
PENDING_TRANSLATION = N_(
    "Articles are waiting to be translated into this language and will appear here once translated."
)
# Translators: shown on an empty feed when no machine translation model (Argos Translate) for this
# language is installed on the server; an administrator has to install one.
NO_MODEL_INSTALLED = N_(
    "No translation model for this language is installed on the server yet: "
    "articles will appear here once one is installed."
)
# Translators: shown on an empty feed when the translation program for this language (e.g. an Apertium
# language pair) is missing or cannot run on the server; an administrator has to install it.
NO_ENGINE = N_(
    "The translation engine for this language is not available on the server yet: "
    "articles will appear here once it is installed."
)
# Translators: shown on an empty feed when every machine translation into this language failed the
# automatic quality check (e.g. words left untranslated), so none is published; they are retried later.
ALL_REFUSED = N_(
    "The machine translations into this language did not pass the quality check, so none is shown yet; "
    "they will be tried again later."
)
# Translators: the description of an empty feed: %(description)s is the feed's usual description
# ("News from … in …", without a final full stop) and %(reason)s one of the sentences above saying why the
# feed is empty. Use the punctuation of your language between them.
EXPLAINED = N_("%(description)s. %(reason)s")

REASONS = (NO_ARTICLES, PENDING_TRANSLATION, NO_MODEL_INSTALLED, NO_ENGINE, ALL_REFUSED)


def reason(*, articles: int, counts: Mapping[str, int], engine: str, source: bool) -> str:
    """The message (msgid) saying why a language's feed is empty.

    `articles`: articles stored; `counts`: this language's translations by status; `engine`: the engine
    configured for the language; `source`: whether it is the source language (whose articles need none).
    """
    if articles == 0:
        return NO_ARTICLES
    if counts.get(PENDING) or (not counts and not source):
        return PENDING_TRANSLATION  # queued, or not even queued yet (a language just added)
    if counts.get(NO_MODEL):
        # Argos is the engine with installable models (`syndicator models install`); any other engine lacks
        # its program or its language pair (an Apertium Debian package).
        return NO_MODEL_INSTALLED if engine == "argos" else NO_ENGINE
    if counts.get(FAILED):
        return ALL_REFUSED
    return NO_ARTICLES  # translated, but nothing public (restricted categories)


def why_empty(store: Store, config: Config, language: str) -> str:
    """The msgid saying why `language` has nothing to show, from the store's state."""
    return reason(
        articles=store.article_count(),
        counts=store.language_counts(language),
        engine=config.translation.engine_for(language),
        source=language == config.languages.source,
    )
