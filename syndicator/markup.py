"""The one way Syndicator builds HTML and XML text: Jinja2 templates with autoescaping.

Every document and fragment made of markup and values (entry pages, entry content, the landing page,
OPML, the feeds' XSL view, the status page) is a template in syndicator/templates/, rendered here with
autoescaping on for every template, whatever its file extension. A value is escaped unless it is a
`Markup`, and this module is the only place a `Markup` is made from a string:

- `render_fragment()`: the output of one of our own templates (its values were escaped on the way in);
- `safe_html()`: HTML from outside, after the sanitizer (syndicator.sanitize.clean_html).

RSS and Atom are serialized from element trees by feedgen and lxml, which escape by construction; their
one free-text node, the xml-stylesheet processing instruction, takes its pseudo-attributes from
`attributes()`. No other module formats markup by hand (tests/test_markup_by_construction.py checks).

Markupsafe escapes & < > " and ' (as &amp; &lt; &gt; &#34; &#39;), which is right in HTML text, HTML
attribute values and XML alike, so one escaping rule serves every output.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from syndicator.sanitize import clean_html

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

__all__ = ["Markup", "attributes", "escape", "render", "render_fragment", "safe_html", "text_in_html"]


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The template environment: autoescape everywhere, a missing value is an error (never "")."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **values: Any) -> str:
    """A whole document from templates/<name>, values escaped."""
    return environment().get_template(name).render(**values)


def render_fragment(name: str, **values: Any) -> Markup:
    """A fragment from templates/<name>, to be placed as markup into another template or a feed."""
    return Markup(render(name, **values).strip())  # our own template: values escaped on the way in


def safe_html(html: str) -> Markup:
    """Outside HTML made harmless by the sanitizer, ready to be placed as markup."""
    return Markup(clean_html(html))  # sanitized: nothing unsafe survives


def text_in_html(text: str) -> str:
    """Plain text for a field that readers render as HTML (RSS <description>): escaped once more."""
    return str(escape(text))


def attributes(values: Mapping[str, str]) -> str:
    """Pseudo-attributes (name="value" …) for an XML processing instruction, values escaped."""
    return render("attributes.txt", values=values).strip()
