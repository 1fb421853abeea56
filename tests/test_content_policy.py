"""The Content-Security-Policy allows exactly what our own pages use: checked on the published output and in a
real browser (headless Chromium, when installed: Debian package chromium).

A page style changed without its hash, or a new kind of resource on a page, fails here instead of leaving
readers with an unstyled or broken page.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.serve.headers import FEED_POLICY, PAGE_POLICY, STATUS_POLICY, style_source
from tests.conftest import build_instance
from tests.support.servers import builtin_server, fetch

HOSTILE = b"""<!DOCTYPE html><html><head><style>body{background:red}</style>
<script>document.title='ran'</script></head><body style="color:red">
<img src="x" onerror="document.title='ran'"><iframe src="https://example.org/"></iframe></body></html>"""


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_instance(tmp_path_factory.mktemp("csp") / "instance", targets=("fr", "ar"), engine="pseudo")
    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    return root


def _directive(policy: str, name: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


def _check_document(doc: lxml.etree._Element, policy: str, where: str) -> None:
    """Every <style> allowed by hash, nothing loaded that the policy refuses, no script at all."""
    styles = _directive(policy, "style-src")
    for style in doc.iter("style", "{http://www.w3.org/1999/xhtml}style"):
        assert style_source(style.text or "") in styles, f"{where}: a <style> the policy does not allow"
    assert not list(doc.iter("script")), where
    for link in doc.iter("link", "{http://www.w3.org/1999/xhtml}link"):
        if "stylesheet" in (link.get("rel") or ""):  # only a same-origin (relative) one, if 'self' is allowed
            relative = "//" not in (link.get("href") or "") and ":" not in (link.get("href") or "")
            assert "'self'" in styles and relative, f"{where}: a stylesheet the policy does not allow"
    images = _directive(policy, "img-src")
    for img in doc.iter("img"):
        scheme = (img.get("src") or "").partition(":")[0].lower()
        assert f"{scheme}:" in images or "'self'" in images, f"{where}: image {img.get('src')!r}"


def test_published_pages_and_the_styled_feeds_use_only_what_the_policy_allows(instance: Path) -> None:
    feeds = instance / "feeds"
    pages = sorted(feeds.rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        _check_document(lxml.html.fromstring(page.read_bytes()), PAGE_POLICY, str(page))
    styled = sorted([*feeds.glob("*/rss.xml"), *feeds.glob("*/atom.xml")])
    for feed in styled:  # what a browser shows: the feed transformed by its feed.xsl
        transform = lxml.etree.XSLT(lxml.etree.parse(str(feed.parent / "feed.xsl")))
        view = transform(lxml.etree.parse(str(feed)))
        _check_document(view.getroot(), FEED_POLICY, f"{feed} through feed.xsl")
    config = load_config(instance / "config" / "syndicator.toml", overrides={"serve.port": "0"})
    with builtin_server(config) as server:
        status = fetch(server.url, "/status")
    _check_document(lxml.html.fromstring(status.body), STATUS_POLICY, "/status")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browser_console(url: str) -> str:
    """What headless Chromium logs while it loads a page (console messages include CSP violations)."""
    binary = _chromium()
    assert binary is not None
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    return done.stderr + "\n<dom>\n" + done.stdout


def _violations(log: str) -> list[str]:
    # Chromium's own XSLT deprecation banner carries style attributes and an onclick that the policy blocks
    # too; those messages say that hashes do not apply to attributes. Everything else would be ours.
    return [
        line
        for line in log.splitlines()
        if "Content Security Policy" in line and "hashes do not apply" not in line
    ]


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (Debian package chromium)")
def test_a_browser_blocks_nothing_of_ours_and_everything_hostile(instance: Path) -> None:
    hostile_page = instance / "feeds" / "hostile.html"
    hostile_page.write_bytes(HOSTILE)
    config = load_config(instance / "config" / "syndicator.toml", overrides={"serve.port": "0"})
    with builtin_server(config) as server:
        entry = next((instance / "feeds" / "ar").rglob("*.html")).relative_to(instance / "feeds").as_posix()
        for path in ("/feeds/", f"/feeds/{entry}", "/feeds/fr/rss.xml", "/feeds/ar/atom.xml", "/status"):
            log = _browser_console(server.url + path)
            assert not _violations(log), (path, _violations(log))
            assert "<dom>\n" in log and "<h1" in log.split("<dom>\n", 1)[1], (path, log[-2000:])
        # The styled feed really is the transformed page, not the raw XML.
        assert "<ol>" in _browser_console(server.url + "/feeds/fr/rss.xml").split("<dom>\n", 1)[1]
        hostile = _browser_console(server.url + "/feeds/hostile.html")
    hostile_page.unlink()  # not one of our pages: the other test must not see it
    blocked = "\n".join(_violations(hostile))
    for what in ("inline style", "script", "frame"):
        assert what in blocked, (what, hostile[-3000:])
    assert "<title>ran</title>" not in hostile
