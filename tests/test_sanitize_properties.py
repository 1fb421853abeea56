"""The sanitizer, whatever it is given: plain_text is text a browser reads as exactly that text; clean_html
holds only allowed, valid markup."""

from __future__ import annotations

import html

import html5lib
import nh3
from hypothesis import example, given, settings
from hypothesis import strategies as st

from syndicator.sanitize import clean_html, plain_text
from tests.support.hostile import escaped, hostile
from tests.support.xss import html_fragment_problems

_EVIL = "<img src=x onerror=alert(1)>"


def _elements(text: str) -> list[str]:
    fragment = html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=False)
    return [el.tag for node in fragment for el in node.iter() if isinstance(el.tag, str)]


@settings(max_examples=settings.default.max_examples * 3)
@given(st.one_of(hostile, st.text(), st.tuples(hostile, st.integers(0, 30)).map(lambda t: escaped(*t))))
@example(escaped(_EVIL, 5))  # issue 10: five layers got through the old five rounds
@example(escaped(_EVIL, 6))
@example("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;")
@example("a\r\n\x00b &amp")
def test_plain_text_is_a_fixed_point_without_markup(text: str) -> None:
    plain = plain_text(text)
    # A fixed point: one more round of tag stripping and entity decoding changes nothing…
    assert html.unescape(nh3.clean(plain, tags=set())).strip() == plain
    assert plain_text(plain) == plain
    # …so an HTML parser (as a reader that renders titles as HTML) finds no element in it.
    assert not _elements(plain)


def test_escaped_markup_comes_out_as_its_text_at_any_depth() -> None:
    for layers in range(0, 40):
        assert plain_text(escaped(f"Bridge {_EVIL}<b>open</b>", layers)) == "Bridge open"


def test_text_that_only_looks_like_markup_is_kept() -> None:
    assert plain_text("AT&T: 3 < 4 and 5 > 2") == "AT&T: 3 < 4 and 5 > 2"


@settings(max_examples=settings.default.max_examples * 3)
@given(st.one_of(hostile, st.lists(hostile, max_size=6).map("<p>".join), st.text()))
@example('<a href="javascript:alert(1)"><img src="data:x" onerror="alert(1)"></a>')
@example("<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>")
def test_clean_html_keeps_only_allowed_valid_markup(text: str) -> None:
    cleaned = clean_html(text)
    assert not html_fragment_problems(cleaned, "body")
    fragment = html5lib.parseFragment(cleaned, treebuilder="etree", namespaceHTMLElements=False)
    elements = [el for node in fragment for el in node.iter() if isinstance(el.tag, str)]
    assert all(el.get("href") for el in elements if el.tag == "a")
    assert all(el.get("src") and el.get("alt") is not None for el in elements if el.tag == "img")
    assert clean_html(cleaned) == cleaned  # stable: stored and published bodies agree
