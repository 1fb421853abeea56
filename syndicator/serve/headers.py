"""Security headers, shared by the built-in server and `syndicator nginx-config` so both send the same.

Every response carries `X-Content-Type-Options: nosniff`: a browser never runs or renders a published file
as anything but its declared type (no feed, JSON or text file turns into script or HTML). HTML pages and the
feeds browsers style carry a Content-Security-Policy that starts from `default-src 'none'` and allows exactly
what our own pages use: their one inline <style> (by hash), article images (from the sources' sites, over
http or https) and, for a feed, its feed.xsl. No script, frame, form, font, connection or <base> is allowed,
so markup that slipped through into a page could neither run nor send anything anywhere.
"""

from __future__ import annotations

import base64
import hashlib

from syndicator.publish import pages, site, stylesheet
from syndicator.serve import statuspage

NOSNIFF = ("X-Content-Type-Options", "nosniff")
CSP = "Content-Security-Policy"


def style_source(css: str) -> str:
    """The CSP source expression that allows one <style> element with exactly this text."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# Directives default-src does not cover: no <base>, no form target, no framing by other sites.
_CLOSED = "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

# Entry pages and index.html: their <style>, and article images from anywhere (<img> in sanitized content).
PAGE_POLICY = (
    f"default-src 'none'; style-src {style_source(pages.STYLE)} {style_source(site.STYLE)}; "
    f"img-src 'self' http: https:; {_CLOSED}"
)
# RSS and Atom, which browsers style with feed.xsl: browsers check an XSLT load against script-src, and the
# transformed page keeps this policy, so it allows that page's <style> too. nosniff keeps any other
# same-origin file from running as a script ('self' serves no JavaScript).
FEED_POLICY = f"default-src 'none'; script-src 'self'; style-src {style_source(stylesheet.STYLE)}; {_CLOSED}"
# /status: its <style> and inline SVG charts.
STATUS_POLICY = f"default-src 'none'; style-src {style_source(statuspage.CSS)}; {_CLOSED}"

# Media types (without parameters) and the policy they are served with.
POLICIES = {
    "text/html": PAGE_POLICY,
    "application/rss+xml": FEED_POLICY,
    "application/atom+xml": FEED_POLICY,
}


def policy_for(media_type: str) -> str | None:
    """The Content-Security-Policy of a published file's media type, or None (not a document browsers show)."""
    return POLICIES.get(media_type.partition(";")[0].strip().lower())
