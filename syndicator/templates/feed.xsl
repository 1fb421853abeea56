<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom" xmlns:fh="http://purl.org/syndication/history/1.0"
    exclude-result-prefixes="atom fh">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat" indent="yes"/>
  <xsl:variable name="feed" select="/rss/channel | /atom:feed"/>
  <!-- feeds/style.css, relative to the feed document: <lang>/ or, for archives, <lang>/archive/<n>/ -->
  <xsl:variable name="root">
    <xsl:choose>
      <xsl:when test="$feed/fh:archive">../../../</xsl:when>
      <xsl:otherwise>../</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:template match="/">
    <html lang="{{ language }}" dir="{{ direction }}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$feed/title | $feed/atom:title"/></title>
        <link rel="stylesheet" href="{$root}{{ stylesheet }}"/>
      </head>
      <body>
        <p class="about">{{ about }}</p>
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
          <p><a href="{@href}">{{ older }}</a></p>
        </xsl:for-each>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
