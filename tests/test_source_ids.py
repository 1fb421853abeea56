"""Stable keys, canonical URLs and language detection: the rules that decide "same article"."""

from __future__ import annotations

from syndicator.sources.ids import canonical_url, stable_key
from syndicator.sources.language import detect_language


def test_canonical_url_rule() -> None:
    same = {
        canonical_url("HTTPS://News.Example.NET:443/2026/bridge.html?utm_source=rss&utm_medium=feed#top"),
        canonical_url("https://news.example.net/2026/bridge.html?fbclid=abc"),
        canonical_url("https://news.example.net/2026/bridge.html"),
        canonical_url("/2026/bridge.html?gclid=1", base="https://news.example.net/news/"),
    }
    assert same == {"https://news.example.net/2026/bridge.html"}
    # What identifies the page is kept: path case, other parameters (sorted), a non-default port.
    assert canonical_url("https://x.org/A?b=2&a=1") == "https://x.org/A?a=1&b=2"
    assert canonical_url("http://x.org:8080") == "http://x.org:8080/"
    assert canonical_url("http://x.org/a") != canonical_url("https://x.org/a")
    assert canonical_url("") == "" and canonical_url("mailto:a@b") == "mailto:a@b"
    assert canonical_url("http://[::1") == "http://[::1"  # unparseable: left as it is


def test_stable_keys() -> None:
    assert stable_key("item-2") == "item-2"
    long_guid = "https://news.example.net/2026/03/01/harbour-bridge-reopens-after-two-years?id=42"
    key = stable_key(long_guid)
    assert key == stable_key(long_guid) and key.startswith("g-") and len(key) == 34
    assert stable_key("", "https://x.org/a?utm_source=rss", "Old title") == stable_key(
        "", "https://X.org/a", "New title"
    )  # no GUID: the canonical link, so an edited title is an update
    assert stable_key("", "", "Same  Title") == stable_key("", "", "same title")
    assert stable_key("a/b") != stable_key("a_b")


def test_language_detection_falls_back_when_unsure() -> None:
    french = "Le marché de nuit du port a rouvert samedi soir avec plus de quatre-vingts stands."
    assert detect_language(french, "en", ("en", "fr")) == "fr"
    assert detect_language(french, "en", ("en", "fr-CA")) == "fr-CA"  # the configured spelling
    assert detect_language("OK", "en") == "en"  # too short to judge
    assert (
        detect_language("The harbour bridge reopened on Sunday after two years of repairs.", "en-GB")
        == "en-GB"
    )
