<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom" xmlns:fh="http://purl.org/syndication/history/1.0"
    xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:syn="{{ view_ns }}"
    exclude-result-prefixes="atom fh content syn">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat" indent="yes"/>
  <xsl:variable name="feed" select="/rss/channel | /atom:feed"/>
  <!-- The root of feeds/ (style.css, the landing page), relative to the feed document: <lang>/ or, for
       archives, <lang>/archive/<n>/ -->
  <xsl:variable name="root">
    <xsl:choose>
      <xsl:when test="$feed/fh:archive">../../../</xsl:when>
      <xsl:otherwise>../</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <!-- Links into this language's folder are made relative, so a local preview stays local: its absolute
       URL, and the way from the feed document to it ("" or, for archives, "../../"). -->
  <xsl:variable name="base">{{ feed_base }}</xsl:variable>
  <xsl:variable name="up"><xsl:if test="$feed/fh:archive">../../</xsl:if></xsl:variable>
  <xsl:template name="local">
    <xsl:param name="url"/>
    <xsl:choose>
      <xsl:when test="starts-with($url, $base)">
        <xsl:value-of select="concat($up, substring-after($url, $base))"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$url"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
  <!-- Text escaped once for HTML (markupsafe's escape: &amp; &lt; &gt; &#34; &#39;) back to the text. -->
  <xsl:template name="unescape">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, '&amp;')">
        <xsl:value-of select="substring-before($text, '&amp;')"/>
        <xsl:variable name="rest" select="substring-after($text, '&amp;')"/>
        <xsl:variable name="name" select="substring-before($rest, ';')"/>
        <xsl:variable name="char">
          <xsl:choose>
            <xsl:when test="$name = 'amp'">&amp;</xsl:when>
            <xsl:when test="$name = 'lt'">&lt;</xsl:when>
            <xsl:when test="$name = 'gt'">&gt;</xsl:when>
            <xsl:when test="$name = 'quot' or $name = '#34'">&quot;</xsl:when>
            <xsl:when test="$name = 'apos' or $name = '#39'">&apos;</xsl:when>
          </xsl:choose>
        </xsl:variable>
        <xsl:choose>
          <xsl:when test="string($char)">
            <xsl:value-of select="$char"/>
            <xsl:call-template name="unescape">
              <xsl:with-param name="text" select="substring-after($rest, ';')"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:text>&amp;</xsl:text>
            <xsl:call-template name="unescape"><xsl:with-param name="text" select="$rest"/></xsl:call-template>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
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
        <nav><a href="{$root}index.html">{{ all_languages }}</a></nav>
        <h1><xsl:value-of select="$feed/title | $feed/atom:title"/></h1>
        <p><xsl:value-of select="$feed/description | $feed/atom:subtitle"/></p>
        <xsl:if test="$feed/item | $feed/atom:entry">
        <ol>
          <xsl:for-each select="$feed/item | $feed/atom:entry">
            <li>
              <a>
                <xsl:attribute name="href">
                  <xsl:call-template name="local">
                    <xsl:with-param name="url" select="(link | atom:link[@rel='alternate'][not(@hreflang)]/@href)[1]"/>
                  </xsl:call-template>
                </xsl:attribute>
                <xsl:value-of select="title | atom:title"/>
              </a>
              <!-- Localized date line and translation notice: plain text the publisher adds (feed_view.py). -->
              <xsl:for-each select="syn:date">
                <p class="meta"><xsl:value-of select="."/></p>
              </xsl:for-each>
              <xsl:for-each select="syn:notice">
                <p class="notice"><em><xsl:value-of select="."/></em></p>
              </xsl:for-each>
              <xsl:for-each select="atom:summary">
                <p><xsl:value-of select="."/></p>
              </xsl:for-each>
              <!-- An RSS <description> is the summary only beside content:encoded (else feedgen puts the content
                   there), and it is the plain text escaped once more for readers that render it as HTML
                   (feeds.py): its entities are decoded here, and the text is written out escaped like any
                   other (disable-output-escaping would do it in one step, but Firefox ignores it). -->
              <xsl:for-each select="description[../content:encoded]">
                <p><xsl:call-template name="unescape"><xsl:with-param name="text" select="."/></xsl:call-template></p>
              </xsl:for-each>
            </li>
          </xsl:for-each>
        </ol>
        </xsl:if>
        <xsl:for-each select="$feed/atom:link[@rel='prev-archive'][1]">
          <p>
            <a>
              <xsl:attribute name="href">
                <xsl:call-template name="local"><xsl:with-param name="url" select="@href"/></xsl:call-template>
              </xsl:attribute>
              <xsl:text>{{ older }}</xsl:text>
            </a>
          </p>
        </xsl:for-each>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
