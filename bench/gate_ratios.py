"""Length ratios (translated / source characters) of the tiny test models, per field, against the gate bounds.

Why the default `translation.length_ratio` bounds are as loose as they are: the tests' tiny models must pass.
Run: .venv/bin/python bench/gate_ratios.py
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syndicator.cli import main
from syndicator.config import TranslationConfig
from tests.conftest import DATA, REPO, write_config
from tests.support.tinymodel import build_package

TARGETS = ("fr", "de", "ru", "ar", "zh")


def main_() -> None:
    """Translate the fixture and example articles with tiny models; print min/median/max ratio per field."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "instance"
        (root / "articles").mkdir(parents=True)
        (root / "models").mkdir()
        for src in [*(DATA / "articles").glob("*.md"), *(REPO / "articles").glob("*.md")]:
            shutil.copy(src, root / "articles" / src.name)
        shutil.copytree(REPO / "locales", root / "locales")
        write_config(root, targets=TARGETS)
        cfg = str(root / "config" / "syndicator.toml")
        files = [str(build_package(root / "built", "en", t, seed=sum(map(ord, "en" + t)))) for t in TARGETS]
        main(["-q", "--config", cfg, "models", "install", *files])
        main(["-q", "--config", cfg, "run", "--once"])
        db = sqlite3.connect(root / "data" / "syndicator.db")
        rows = db.execute(
            "SELECT t.language, a.title, t.title, a.summary, t.summary, a.body_html, t.body_html, t.status "
            "FROM translations t JOIN articles a ON a.id = t.article_id"
        ).fetchall()
        db.close()

    def text(html: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()

    defaults = TranslationConfig()
    print(f"{len(rows)} translations; statuses: {sorted({r[7] for r in rows})}")
    print(f"default bounds {defaults.length_ratio}, into CJK {defaults.length_ratio_to_cjk}")
    for lang in TARGETS:
        for name, i in (("title", 1), ("summary", 3), ("body", 5)):
            ratios = sorted(
                len(text(r[i + 1])) / len(text(r[i])) for r in rows if r[0] == lang and text(r[i])
            )
            print(f"  {lang} {name:8} min {ratios[0]:.2f}  median {ratios[len(ratios) // 2]:.2f}  "
                  f"max {ratios[-1]:.2f}  (n={len(ratios)})")  # fmt: skip


if __name__ == "__main__":
    main_()
