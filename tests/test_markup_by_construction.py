"""No module builds markup by hand: HTML and XML text comes only from syndicator/markup.py's templates.

The check reads every module's syntax tree (not its text, so comments and docstrings do not count) and
flags a string literal that holds a tag ("<p", "</a>", "<?xml", "<!DOCTYPE") when it is formatted with
values: an f-string, a %-format, a str.format or str.replace template, or a concatenation; and an f-string
that fills an attribute (name="{value}", e.g. a processing instruction's pseudo-attributes). A literal tag
alone (e.g. a regex, or "<a" searched for) is not markup being built. `Markup(` may appear only in
syndicator/markup.py: it is the one place that declares a string safe.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "syndicator"
TEMPLATING = PACKAGE / "markup.py"

# Engine-facing markup in the translation path: sentences wrapped for Apertium's HTML mode and the
# placeholders that carry inline tags through an engine. It is parsed back, never published as it is:
# translated bodies pass through nh3 at entry and at publishing like any body.
ENGINE_INTERNAL = {"translate/apertium.py", "translate/document.py", "translate/protect.py"}

_TAG = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9:-]*(?=[\s/>]|$)|\?xml|!DOCTYPE|!\[CDATA\[)", re.I)
_ATTRIBUTE_OPEN = re.compile(r"(?:^|\s)[A-Za-z][\w:-]*=[\"']$")
_REGEX_GROUP = re.compile(r"\(\?P?<[!=]?[A-Za-z_]*>?")  # (?P<name>…), (?<=…), (?<!…) in patterns


def _holds_tag(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_TAG.search(_REGEX_GROUP.sub("", node.value)))
    if isinstance(node, ast.JoinedStr):
        return any(_holds_tag(v) for v in node.values)
    return False


def _fills_attribute(node: ast.JoinedStr) -> bool:
    """name="{value}" or name='{value}': an attribute (or pseudo-attribute) written by hand."""
    return any(
        isinstance(a, ast.Constant) and isinstance(a.value, str) and _ATTRIBUTE_OPEN.search(a.value)
        for a, b in zip(node.values, node.values[1:], strict=False)
        if isinstance(b, ast.FormattedValue)
    )


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _markup_built_by_hand(tree: ast.AST) -> Iterator[tuple[int, str]]:
    docstrings = _docstrings(tree)
    # Names bound to a tag-holding literal at module or function level (a template kept in a constant).
    templates = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _holds_tag(node.value) and id(node.value) not in docstrings
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_template(node: ast.AST) -> bool:
        return (_holds_tag(node) and id(node) not in docstrings) or (
            isinstance(node, ast.Name) and node.id in templates
        )

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.JoinedStr)
            and _holds_tag(node)
            and any(isinstance(v, ast.FormattedValue) for v in node.values)
        ):
            yield node.lineno, "f-string with a tag"
        elif isinstance(node, ast.JoinedStr) and _fills_attribute(node):
            yield node.lineno, 'f-string filling an attribute (name="{value}")'

        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            if is_template(node.left) or is_template(node.right):
                yield node.lineno, "concatenation or %-format with a tag"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("format", "replace", "join") and is_template(node.func.value):
                yield node.lineno, f"str.{node.func.attr} on a tag template"
            if node.func.attr == "join" and any(is_template(a) for a in node.args):
                yield node.lineno, "join with a tag"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Markup":
            yield node.lineno, "Markup() outside syndicator/markup.py"


def _modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if p != TEMPLATING and p.relative_to(PACKAGE).as_posix() not in ENGINE_INTERNAL
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_builds_markup_by_hand(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [f"{path.relative_to(PACKAGE)}:{line}: {what}" for line, what in _markup_built_by_hand(tree)]
    assert not found, (
        "markup built by hand (render a template from syndicator/templates instead):\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('x = f"<p>{text}</p>"', True),
        ("x = '<a href=\"' + url + '\">'", True),
        ("x = '<b>%s</b>' % text", True),
        ("x = '<li>{}</li>'.format(text)", True),
        ("T = '<html lang=@L@>'\ny = T.replace('@L@', code)", True),
        ("x = ''.join(f'<td>{c}</td>' for c in cells)", True),
        ('x = f\'type="text/xsl" href="{href}"\'', True),  # a processing instruction's pseudo-attributes
        ("x = f'name = \"{name}\"'", False),  # TOML, not markup
        ("x = f'requests{{kind=\"{kind}\"}} {n}'", False),  # Prometheus labels, not markup
        ("x = Markup(text)", True),
        ("x = 'a < b' + text", False),  # a comparison in prose, no tag
        ("x = f'feeds: {base}<lang>/atom.xml'", True),  # looks like a tag: rephrase such help text
        ("if '<a' in html: pass", False),  # searching for a tag builds nothing
        ("RE = re.compile(r'<meta[^>]+charset')", False),
        ("RE = re.compile(rf'(?P<day>{_D})(?<!x)')", False),
        ('def f():\n    """Builds <p> elements."""', False),
    ],
)
def test_the_check_itself(source: str, flagged: bool) -> None:
    assert bool(list(_markup_built_by_hand(ast.parse(source)))) is flagged


def test_the_engine_internal_exemptions_still_exist() -> None:
    # An exemption for a module that is gone or renamed would silently exempt nothing; keep the list true.
    assert all((PACKAGE / rel).is_file() for rel in ENGINE_INTERNAL)
