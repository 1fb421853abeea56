"""Argos model packages on disk: scan, describe and install `.argosmodel` files (air-gapped is normal)."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from syndicator.errors import TranslationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackageDir:
    """An installed package folder and what its metadata says."""

    path: Path
    source: str
    target: str
    version: str
    kind: str

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


def read_metadata(folder: Path) -> PackageDir:
    """Read a package folder's metadata.json, or raise TranslationError saying what is wrong."""
    meta_path = folder / "metadata.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TranslationError(f"{folder}: not an Argos package (no metadata.json)") from exc
    except (OSError, ValueError) as exc:
        raise TranslationError(f"{meta_path}: unreadable metadata ({exc})") from exc
    if not isinstance(meta, dict) or not meta.get("from_code") or not meta.get("to_code"):
        raise TranslationError(f"{meta_path}: metadata lacks from_code/to_code")
    return PackageDir(
        path=folder,
        source=str(meta["from_code"]),
        target=str(meta["to_code"]),
        version=str(meta.get("package_version", "")),
        kind=str(meta.get("type", "translate")),
    )


def scan(packages_dir: Path) -> tuple[list[PackageDir], list[str]]:
    """Installed translate packages, and a message for each folder that is not one."""
    found: list[PackageDir] = []
    problems: list[str] = []
    if not packages_dir.is_dir():
        return found, problems
    for folder in sorted(packages_dir.iterdir()):
        # A folder without metadata.json would break argostranslate's own scan; skip it here instead.
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            pkg = read_metadata(folder)
        except TranslationError as exc:
            problems.append(str(exc))
            continue
        if pkg.kind == "translate":
            found.append(pkg)
    return found, problems


def _top_folder(archive: zipfile.ZipFile, origin: Path) -> str:
    tops = set()
    for name in archive.namelist():
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or ".." in parts or "\\" in name:
            raise TranslationError(f"{origin}: unsafe path {name!r} inside the package")
        tops.add(parts[0])
    if len(tops) != 1:
        raise TranslationError(f"{origin}: a package holds exactly one top-level folder, found {len(tops)}")
    return tops.pop()


def install(file: Path, packages_dir: Path) -> PackageDir:
    """Install one .argosmodel file, replacing any installed package for the same pair."""
    if not file.is_file():
        raise TranslationError(f"{file}: no such file", hint="give the path of a downloaded .argosmodel file")
    if not zipfile.is_zipfile(file):
        raise TranslationError(f"{file}: not an Argos package (a .argosmodel is a zip archive)")
    packages_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(file) as archive:
        top = _top_folder(archive, file)
        if f"{top}/metadata.json" not in archive.namelist():
            raise TranslationError(f"{file}: no metadata.json in {top}/")
        # Unpack beside the destination, then swap in with renames: a half-unpacked package is never live.
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=packages_dir))
        try:
            archive.extractall(staging)
            new = read_metadata(staging / top)
            if not (staging / top / "model").is_dir():
                raise TranslationError(f"{file}: no model/ folder in {top}/")
            installed, _ = scan(packages_dir)
            for old in installed:
                if (old.source, old.target) == (new.source, new.target) or old.path.name == top:
                    shutil.rmtree(old.path)
            dest = packages_dir / top
            (staging / top).rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    log.info("installed %s → %s %s from %s", new.source, new.target, new.version, file)
    return read_metadata(dest)


def remove(pair: str, packages_dir: Path) -> list[PackageDir]:
    """Remove the installed packages for a pair written "en-fr" (or "en_fr"); return what was removed."""
    source, sep, target = pair.replace("_", "-").partition("-")
    if not sep or not source or not target:
        raise TranslationError(f"{pair!r}: expected a pair like en-fr", hint="see `syndicator models list`")
    found = [p for p in scan(packages_dir)[0] if (p.source, p.target) == (source, target)]
    if not found:
        raise TranslationError(f"no package for {source} → {target} in {packages_dir}")
    for pkg in found:
        shutil.rmtree(pkg.path)
        log.info("removed %s → %s %s", pkg.source, pkg.target, pkg.version)
    return found
