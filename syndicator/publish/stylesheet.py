"""The XSL stylesheet (no I/O) that RSS and Atom documents reference, so a browser shows a readable page.

One file per language (`feeds/<lang>/feed.xsl`): its fixed phrases come from that language's catalog and
its page carries the language's `lang`/`dir`. XSLT 1.0, the version browsers implement; it handles both
RSS 2.0 (`/rss/channel`) and Atom (`/atom:feed`) with the same templates.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from syndicator.localize import Catalogs, direction

_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat" indent="yes"/>
  <xsl:variable name="feed" select="/rss/channel | /atom:feed"/>
  <xsl:template match="/">
    <html lang=@LANG@ dir=@DIR@>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$feed/title | $feed/atom:title"/></title>
        <style>@STYLE@</style>
      </head>
      <body>
        <p class="about">@ABOUT@</p>
        <h1><xsl:value-of select="$feed/title | $feed/atom:title"/></h1>
        <p><xsl:value-of select="$feed/description | $feed/atom:subtitle"/></p>
        <ol>
          <xsl:for-each select="$feed/item | $feed/atom:entry">
            <li>
              <a href="{link | atom:link[@rel='alternate'][not(@hreflang)]/@href}">
                <xsl:value-of select="title | atom:title"/>
              </a>
              <p><xsl:value-of select="description | atom:summary"/></p>
            </li>
          </xsl:for-each>
        </ol>
        <xsl:for-each select="$feed/atom:link[@rel='prev-archive'][1]">
          <p><a href="{@href}">@OLDER@</a></p>
        </xsl:for-each>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
"""

# The inline <style>: serve/headers.py allows exactly this text (a hash in the Content-Security-Policy).
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    ".about{background:#eef3f8;padding:.6rem .8rem;border-radius:.3rem}li{margin:.8rem 0}li p{margin:.2rem 0}"
)


def build_stylesheet(language: str, catalogs: Catalogs) -> bytes:
    """The feed.xsl of one language."""
    _ = catalogs.gettext
    about = _(
        language,
        "This is a web feed. Copy its address into a news reader to subscribe; new articles then come to you.",
    )
    text = (
        _TEMPLATE.replace("@LANG@", quoteattr(language))
        .replace("@DIR@", quoteattr(direction(language)))
        .replace("@STYLE@", escape(STYLE))
        .replace("@ABOUT@", escape(about))
        .replace("@OLDER@", escape(_(language, "Older articles")))
    )
    return text.encode("utf-8")
