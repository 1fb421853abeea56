"""Install models from the Argos package index: pick direct packages, or both halves of a pivot."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from syndicator import http
from syndicator.errors import SyndicatorError, TranslationError
from syndicator.translate import packages

log = logging.getLogger(__name__)

MAX_INDEX_BYTES = 20 * 1024 * 1024
MAX_PACKAGE_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class IndexEntry:
    """One translate package the index offers."""

    source: str
    target: str
    version: str
    links: tuple[str, ...]

    @property
    def pair(self) -> str:
        """ "en → fr"."""
        return f"{self.source} → {self.target}"


def read_index(data: bytes, url: str) -> list[IndexEntry]:
    """Parse an argospm index.json; entries without a pair or links are skipped."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise TranslationError(f"{url}: not a JSON package index ({exc})") from exc
    if not isinstance(raw, list):
        raise TranslationError(f"{url}: a package index is a JSON list of packages")
    out = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type", "translate") != "translate":
            continue
        links = item.get("links")
        if not item.get("from_code") or not item.get("to_code") or not isinstance(links, list) or not links:
            continue
        out.append(IndexEntry(str(item["from_code"]), str(item["to_code"]),
                              str(item.get("package_version", "")), tuple(str(x) for x in links)))  # fmt: skip
    return out


def choose(index: Sequence[IndexEntry], source: str, targets: Sequence[str], pivot: str) -> list[IndexEntry]:
    """The packages that cover source → each target: direct when offered, else both halves through `pivot`."""
    by_pair: dict[tuple[str, str], IndexEntry] = {}
    for entry in index:
        best = by_pair.get((entry.source, entry.target))
        if best is None or _version_key(entry.version) > _version_key(best.version):
            by_pair[(entry.source, entry.target)] = entry
    chosen: dict[tuple[str, str], IndexEntry] = {}
    missing = []
    for target in targets:
        if target == source:
            continue
        direct = by_pair.get((source, target))
        halves = [by_pair.get((source, pivot)), by_pair.get((pivot, target))]
        if direct is not None:
            chosen[(source, target)] = direct
        elif pivot not in (source, target) and all(h is not None for h in halves):
            chosen.update({(h.source, h.target): h for h in halves if h is not None})
        else:
            missing.append(f"{source} → {target}")
    if missing:
        # A pivot is a way round only for pairs that do not start or end with it.
        via = "" if all(pivot in m.split(" → ") for m in missing) else f" (directly or through {pivot})"
        raise TranslationError(
            f"the package index has no package for {', '.join(missing)}{via}",
            hint="use another engine for these languages (translation.engines) or install files by hand",
        )
    return list(chosen.values())


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def install_online(
    client: http.HttpClient,
    index_url: str,
    source: str,
    targets: Sequence[str],
    pivot: str,
    packages_dir: Path,
    *,
    progress: bool = False,
    say: Callable[[str], None] = print,
) -> list[packages.PackageDir]:
    """Download and install what source → targets needs; packages already installed at that version stay.

    Through the instance's client: the [http] timeouts and User-Agent; the caps are this module's own."""
    installed = {(p.source, p.target): p.version for p in packages.scan(packages_dir)[0]}
    packages_dir.mkdir(parents=True, exist_ok=True)
    done: list[packages.PackageDir] = []
    with tempfile.TemporaryDirectory(prefix=".online-", dir=packages_dir) as tmp:
        index_file = client.download(index_url, Path(tmp) / "index.json", max_bytes=MAX_INDEX_BYTES)
        for entry in choose(read_index(index_file.read_bytes(), index_url), source, targets, pivot):
            if installed.get((entry.source, entry.target)) == entry.version:
                say(f"{entry.pair} {entry.version}: already installed")
                continue
            file = Path(tmp) / f"translate-{entry.source}_{entry.target}-{entry.version}.argosmodel"
            errors = []
            for link in entry.links:  # mirrors: the first that works
                try:
                    _download(client, link, file, progress)
                    break
                except SyndicatorError as exc:
                    errors.append(str(exc))
                    log.warning("%s", exc)
            else:
                raise TranslationError(f"cannot download {entry.pair}: {'; '.join(errors)}")
            pkg = packages.install(file, packages_dir)
            file.unlink()
            say(f"installed {pkg.source} → {pkg.target} (version {pkg.version or '?'}) from {link}")
            done.append(pkg)
    return done


def _download(client: http.HttpClient, url: str, file: Path, progress: bool) -> None:
    """One package download, with a byte progress bar on a terminal."""
    from tqdm import tqdm  # an argostranslate dependency already

    with tqdm(unit="B", unit_scale=True, desc=file.name, disable=None if progress else True) as bar:

        def report(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        client.download(url, file, max_bytes=MAX_PACKAGE_BYTES, progress=report)
