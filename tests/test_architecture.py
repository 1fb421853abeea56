"""docs/architecture.md shows the same package layers that lint-imports enforces (pyproject.toml)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_documented_layers_are_the_checked_ones() -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in contracts["contracts"] if c["type"] == "layers"]
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", doc, re.DOTALL)
    assert block, "docs/architecture.md lost its ```layers block"
    assert block.group(1).splitlines() == layers, "update docs/architecture.md to match pyproject.toml"


def test_every_package_and_top_level_module_has_a_layer() -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in contracts["contracts"] if c["type"] == "layers"]
    placed = {name.strip() for line in layers for name in line.split("|")}
    package = REPO / "syndicator"
    found = {f"syndicator.{p.stem}" for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    found |= {f"syndicator.{p.parent.name}" for p in package.glob("*/__init__.py")}
    assert found - placed == set(), "a new module needs its place in [tool.importlinter] layers"
