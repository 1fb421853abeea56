"""Human corrections: an editor's translation of (article, language) replaces the machine's.

Layout: `<corrections_dir>/<lang>/<source>/<id>.md`, front matter `title` (required) and `summary`
(optional), Markdown body — the drop folder's format. A correction holds while the article it was checked
against is unchanged; when the article changes, the machine translation takes over again and the correction is
reported stale until the editor updates the file (an edited file is taken as checked against the new version).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syndicator.errors import BadItem
from syndicator.models import DONE, HUMAN, Problem, Translation
from syndicator.sources.files import FileLimits, read_file
from syndicator.sources.folder import (
    MARKDOWN_SUFFIXES,
    BadArticle,
    parse_markdown,
    render_markdown,
    text_field,
    word_list,
)
from syndicator.store import Store

log = logging.getLogger(__name__)

ORIGIN = "corrections"  # the "source" named in problems about correction files


@dataclass(frozen=True)
class CorrectionFile:
    """One correction file found on disk."""

    path: Path
    language: str
    source: str
    key: str


@dataclass
class Outcome:
    """What applying the corrections folder did."""

    applied: dict[str, int]  # per language, corrections newly applied
    stale: list[str]  # files whose article changed since
    problems: list[Problem]


def is_correction_file(folder: Path, path: Path) -> bool:
    """Whether `path` is read as a correction (or reported as misplaced): Markdown under `folder`, not hidden
    (editors' temp files never count; the watcher applies the same rule to its events)."""
    return (
        path.suffix.lower() in MARKDOWN_SUFFIXES
        and not path.name.startswith(".")
        and path.is_relative_to(folder)
        and path != folder
    )


def find(folder: Path, languages: Sequence[str]) -> tuple[list[CorrectionFile], list[Problem]]:
    """Correction files under `folder`, and a problem for each that is misplaced."""
    found: list[CorrectionFile] = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or not is_correction_file(folder, path):
            continue
        parts = path.relative_to(folder).parts
        if len(parts) != 3:
            problems.append(
                Problem(ORIGIN, str(path), "expected <language>/<source>/<id>.md under the folder")
            )
            continue
        if parts[0] not in languages:
            problems.append(
                Problem(
                    ORIGIN,
                    str(path),
                    f"{parts[0]!r} is not a configured language (languages.source or targets)",
                )
            )
            continue
        found.append(CorrectionFile(path, parts[0], parts[1], path.stem))
    return found, problems


def _no_article(file: CorrectionFile) -> str:
    return f"no article {file.key!r} from source {file.source!r} (name the file after the article's id)"


def _bytes(file: CorrectionFile) -> bytes:
    # Editors write this folder: read like a drop folder (regular files, bounded, links kept inside it).
    return read_file(file.path, file.path.parents[2], FileLimits()).data


def _read(file: CorrectionFile) -> tuple[str, str, str, tuple[str, ...] | None]:
    """Title, summary, body and the tags the file gives (None when it says nothing about tags)."""
    meta, content = parse_markdown(_bytes(file))
    title = text_field(meta, "title")
    if not title:
        raise BadArticle("missing 'title' in front matter")
    body = render_markdown(content)
    if not body:
        raise BadArticle("the body is empty: write the corrected article text below the front matter")
    tags = meta.get("tags")
    if tags is None:
        return title, text_field(meta, "summary"), body, None
    # In the article's order: matched to its tags by position.
    return title, text_field(meta, "summary"), body, tuple(word_list(tags, "tags"))


def inspect(store: Store, folder: Path, languages: Sequence[str]) -> tuple[list[str], list[Problem]]:
    """For `status`: stale corrections (article changed since) and broken files, without applying anything."""
    files, problems = find(folder, languages)
    for file in files:
        if store.article_by_key(file.source, file.key) is None:
            problems.append(Problem(ORIGIN, str(file.path), _no_article(file)))
            continue
        try:
            _read(file)
        except (BadItem, OSError) as exc:
            problems.append(Problem(ORIGIN, str(file.path), str(exc)))
    stale = [path for _, _, path, is_stale in store.corrections() if is_stale]
    return stale, problems


def apply(store: Store, folder: Path, languages: Sequence[str], now: datetime) -> Outcome:
    """Apply new or edited corrections; forget those whose file is gone; report stale and broken ones."""
    files, problems = find(folder, languages)
    outcome = Outcome({}, [], problems)
    present: set[tuple[int, str]] = set()
    for file in files:
        article = store.article_by_key(file.source, file.key)
        if article is None:
            outcome.problems.append(Problem(ORIGIN, str(file.path), _no_article(file)))
            continue
        if article.language == file.language:
            outcome.problems.append(
                Problem(
                    ORIGIN, str(file.path), f"the article is written in {file.language}: nothing to correct"
                )
            )
            continue
        present.add((article.id, file.language))
        try:
            file_hash = hashlib.sha256(_bytes(file)).hexdigest()
        except BadItem as exc:
            outcome.problems.append(Problem(ORIGIN, str(file.path), str(exc)))
            continue
        except OSError as exc:
            outcome.problems.append(Problem(ORIGIN, str(file.path), f"cannot read: {exc.strerror or exc}"))
            continue
        known = store.correction(article.id, file.language)
        if known is not None and known[0] == file_hash:
            if known[1] != article.content_hash:
                outcome.stale.append(str(file.path))  # the machine translates the new version meanwhile
                continue
            current = store.translations_for([article.id], file.language).get(article.id)
            if current is not None and current.reviewed and current.status == DONE:
                continue  # in place already: nothing to do
        try:
            title, summary, body, given_tags = _read(file)
        except BadItem as exc:
            outcome.problems.append(Problem(ORIGIN, str(file.path), str(exc)))
            continue
        except OSError as exc:
            outcome.problems.append(Problem(ORIGIN, str(file.path), f"cannot read: {exc.strerror or exc}"))
            continue
        # Tags are matched to the article's by position (publish/entries.py). A correction that names none
        # keeps the ones translated before it: without them the language's categories fell back to English.
        if given_tags is None:
            before = store.translations_for([article.id], file.language).get(article.id)
            given_tags = before.tags if before is not None else ()
        store.apply_correction(
            Translation(article.id, file.language, DONE, title=title, summary=summary, body_html=body,
                        tags=given_tags, engine=HUMAN, model_version=f"file:{file_hash[:12]}", source_hash=article.content_hash,
                        updated=now, reviewed=True),
            str(file.path), file_hash,
        )  # fmt: skip
        outcome.applied[file.language] = outcome.applied.get(file.language, 0) + 1
        log.info("applied the correction %s", file.path)
    for article_id, language, path, _stale in store.corrections():
        if (article_id, language) not in present and not Path(path).is_file():
            store.drop_correction(article_id, language)
            log.info("the correction %s was removed: the machine translation takes over", path)
    for p in outcome.problems:
        log.warning("%s: %s", p.origin, p.message)
    return outcome
