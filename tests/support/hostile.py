"""Hypothesis strategies for what a hostile source sends: markup, escaped markup, bad URLs, odd characters."""

from __future__ import annotations

import html

from hypothesis import strategies as st

SNIPPETS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><a x='",
    '" onmouseover="alert(1)',
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    '<a href="javascript:alert(1)">x</a>',
    "<a>no href</a>",
    "<img src=https://x.example/i.png>",
    "<iframe src=//evil.example/></iframe>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<object data=javascript:alert(1)></object>",
    "<base href=javascript:/>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<!--",
    "-->",
    "]]>",
    "<![CDATA[",
    "<?xml-stylesheet href=x?>",
    "</textarea></title></style>",
    "{{ 7*7 }}",
    "{% raw %}",
    "${7*7}",
    "&",
    "&amp;",
    "&#x3C;script&#x3E;",
    "&lt;b&gt;",
    "\x00",
    "\x1b[31m",
    "\x85\u2028\u2029",
    "\ufeff",
    "\ud800",
    "'",
    '"',
    "`",
    "\n",
    "é 中文 العربية",
)


def escaped(text: str, times: int) -> str:
    """`text` HTML-escaped `times` times over."""
    for _ in range(times):
        text = html.escape(text)
    return text


piece = st.one_of(
    st.sampled_from(SNIPPETS),
    st.tuples(st.sampled_from(SNIPPETS[:22]), st.integers(1, 8)).map(lambda t: escaped(*t)),
    st.text(max_size=12),
)
# A hostile field value: a few pieces run together.
hostile = st.lists(piece, min_size=1, max_size=4).map("".join)


def maybe(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly a valid value (so articles get through validation and reach the feeds), sometimes hostile."""
    return st.one_of(valid, valid, hostile)


def with_hostile(valid: str) -> st.SearchStrategy[str]:
    """A valid value with hostile text around it (still usable as that field, e.g. a title)."""
    return st.tuples(hostile, hostile).map(lambda t: f"{t[0]} {valid} {t[1]}")
