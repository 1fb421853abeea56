"""Partners end to end: config/partners.toml, restricted categories, token and bearer feeds, statistics."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from syndicator.cli import main
from syndicator.config import load_config
from syndicator.errors import ConfigError
from syndicator.partners import hash_token, load_partners
from syndicator.serve.server import FeedServer
from syndicator.store import Store
from tests.support.servers import builtin_server, fetch

TOKEN_A, TOKEN_B, TOKEN_C = "token-embassy-" + "a" * 30, "token-ngo-" + "b" * 30, "token-quiet-" + "c" * 30


def _partners_toml(a: str = TOKEN_A, with_b: bool = True) -> str:
    text = f"""\
        restricted = ["culture"]

        [[partner]]
        name = "embassy"
        token_sha256 = "{hash_token(a)}"
        languages = ["fr"]
        restricted = ["culture"]

        [[partner]]
        name = "quiet"
        token_sha256 = "{hash_token(TOKEN_C)}"
        """
    if with_b:
        text += f"""
        [[partner]]
        name = "ngo"
        token_sha256 = "{hash_token(TOKEN_B)}"
        categories = ["transport"]
        """
    return textwrap.dedent(text)


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


@pytest.fixture
def instance(make_instance: Callable[..., Path]) -> Path:
    root = make_instance(targets=("fr",), engine="pseudo", extra="\n[serve]\nport = 0\n")
    (root / "config" / "partners.toml").write_text(_partners_toml(), encoding="utf-8")
    assert _cli(root, "run", "--once") == 0
    return root


@pytest.fixture
def server(instance: Path) -> Iterator[FeedServer]:
    with builtin_server(load_config(instance / "config" / "syndicator.toml")) as srv:
        yield srv


def _ids(body: bytes) -> set[str]:
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    return {e.id.rsplit("/", 1)[-1] for e in feed.entries}


def test_restricted_entries_stay_out_of_public_feeds(instance: Path) -> None:
    for lang in ("en", "fr"):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert b"night-market" not in (instance / "feeds" / lang / name).read_bytes()
        assert _ids((instance / "feeds" / lang / "atom.xml").read_bytes()) == {
            "harbour-bridge.html",
            "school-garden.html",
        }
        assert not (instance / "feeds" / lang / "newsroom" / "night-market.html").exists()


def test_partner_feeds_by_token_url_and_bearer(server: FeedServer) -> None:
    base = server.url
    url = f"/feeds/p/{TOKEN_A}/fr/atom.xml"
    r = fetch(base, url)
    assert r.status == 200
    assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert r.headers["cache-control"].startswith("private")
    assert _ids(r.body) == {"harbour-bridge.html", "school-garden.html", "night-market.html"}
    assert fetch(base, url, headers={"If-None-Match": r.headers["etag"]}).status == 304
    bearer = fetch(base, "/feeds/p/fr/rss.xml", headers={"Authorization": f"Bearer {TOKEN_A}"})
    assert bearer.status == 200 and "night-market.html" in _ids(bearer.body)
    # Categories limit what a partner receives; no restricted entries without the grant.
    assert _ids(fetch(base, f"/feeds/p/{TOKEN_B}/en/atom.xml").body) == {"harbour-bridge.html"}
    not_found = fetch(base, "/feeds/no-such-file.xml")
    for path, headers in [
        (f"/feeds/p/{TOKEN_A}/en/atom.xml", {}),  # a language it may not pull
        ("/feeds/p/wrong-token/fr/atom.xml", {}),
        ("/feeds/p/fr/atom.xml", {}),
        ("/feeds/p/fr/atom.xml", {"Authorization": "Bearer wrong"}),
        (f"/feeds/p/{TOKEN_A}/fr/secret.txt", {}),
    ]:
        r = fetch(base, path, headers=headers)
        assert (r.status, r.body) == (404, not_found.body), path


def test_the_token_stays_out_of_ids(server: FeedServer) -> None:
    """Ids are copied, shared and logged by readers: the token belongs only in the subscriber's own links."""
    by_url = fetch(server.url, f"/feeds/p/{TOKEN_A}/fr/atom.xml").body.decode()
    by_bearer = fetch(server.url, "/feeds/p/fr/atom.xml", headers={"Authorization": f"Bearer {TOKEN_A}"}).body
    ids = re.findall(r"<id>([^<]*)</id>", by_url)
    assert ids and not [i for i in ids if TOKEN_A in i]
    assert ids[0].startswith("urn:uuid:") and ids[0] in by_bearer.decode()  # one feed, one id, however pulled
    assert f"/p/{TOKEN_A}/fr/atom.xml" in by_url  # rel="self": the URL the subscriber uses
    rss = fetch(server.url, f"/feeds/p/{TOKEN_A}/fr/rss.xml").body.decode()
    assert not [g for g in re.findall(r"<guid[^>]*>([^<]*)</guid>", rss) if TOKEN_A in g]
    other = fetch(server.url, f"/feeds/p/{TOKEN_B}/fr/atom.xml").body.decode()
    assert re.findall(r"<id>([^<]*)</id>", other)[0] != ids[0]  # partners' feeds differ, so do their ids


def test_token_edit_and_removal_take_effect_without_restart(instance: Path, server: FeedServer) -> None:
    base = server.url
    assert fetch(base, f"/feeds/p/{TOKEN_A}/fr/atom.xml").status == 200
    assert fetch(base, f"/feeds/p/{TOKEN_B}/fr/atom.xml").status == 200
    new_a = "rotated-" + "z" * 40
    (instance / "config" / "partners.toml").write_text(
        _partners_toml(a=new_a, with_b=False), encoding="utf-8"
    )
    assert fetch(base, f"/feeds/p/{TOKEN_A}/fr/atom.xml").status == 404
    assert fetch(base, f"/feeds/p/{TOKEN_B}/fr/atom.xml").status == 404
    assert fetch(base, f"/feeds/p/{new_a}/fr/atom.xml").status == 200
    # A broken edit fails closed (no partner access); the loopback-only /status says why, public /healthz
    # says nothing about it (the message names the file and partners).
    (instance / "config" / "partners.toml").write_text(
        '[[partner]]\nname = "embassy-paris"\ntoken_sha256 = "not-a-hash"\n', encoding="utf-8"
    )
    assert fetch(base, f"/feeds/p/{new_a}/fr/atom.xml").status == 404
    assert json.loads(fetch(base, "/healthz").body) == {"status": "ok"}
    status = fetch(base, "/status").body.decode()
    assert "partners.toml:3: partner[0].token_sha256" in status


def test_pull_statistics_and_report(
    instance: Path, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    base = server.url
    agent = {"User-Agent": "EmbassyReader/2.0"}
    first = fetch(base, f"/feeds/p/{TOKEN_A}/fr/atom.xml", headers=agent)
    for _ in range(3):
        fetch(
            base, f"/feeds/p/{TOKEN_A}/fr/atom.xml", headers={**agent, "If-None-Match": first.headers["etag"]}
        )
    fetch(base, "/feeds/en/rss.xml", headers={"User-Agent": "PublicReader"})
    assert server.app.pulls.flush() == 5
    store = Store(load_config(instance / "config" / "syndicator.toml").store.url)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    store.record_pulls(
        [{"day": long_ago.strftime("%Y-%m-%d"), "partner": "ngo", "feed": "en/atom.xml", "pulls": 2,
          "not_modified": 0, "last_pull": long_ago, "user_agent": "NgoBot"}]
    )  # fmt: skip
    store.close()
    capsys.readouterr()
    assert _cli(instance, "partners", "--json") == 0
    rows = {r["partner"]: r for r in json.loads(capsys.readouterr().out)}
    embassy = rows["embassy"]
    assert embassy["pulls"] == 4 and embassy["not_modified_share"] == 0.75
    assert embassy["feeds"][0]["feed"] == "fr/atom.xml"
    assert embassy["feeds"][0]["user_agent"] == "EmbassyReader/2.0"
    assert not embassy["stopped"]
    assert rows["ngo"]["stopped"] and rows["quiet"]["never"]
    assert rows["(public)"]["pulls"] == 1
    assert _cli(instance, "partners") == 0
    text = capsys.readouterr().out
    assert "ngo:" in text and "STOPPED PULLING" in text
    assert "quiet:" in text and "never pulled" in text


def test_a_restricted_entrys_files_reach_its_partner_and_nobody_else(instance: Path) -> None:
    """A restricted entry's image (and the files its body links) never reach feeds/: the partner's feed links
    them under its own URL, served from the store to its token only; public feeds and folders never hold them."""
    image = Path(__file__).parent / "data" / "images" / "images" / "ferry.png"
    (instance / "articles" / "images").mkdir(exist_ok=True)
    shutil.copy(image, instance / "articles" / "images" / "stall.png")
    (instance / "articles" / "stall.md").write_text(
        "---\ntitle: A new stall\ndate: 2026-03-04T10:00:00Z\ntags: [culture]\nimage: images/stall.png\n---\n"
        "Crafts. ![The stall](images/stall.png)\n",
        encoding="utf-8",
    )
    assert _cli(instance, "run", "--once") == 0
    assert b"stall" not in (instance / "feeds" / "fr" / "atom.xml").read_bytes()
    published = [p for p in (instance / "feeds").rglob("*") if p.is_file()]
    assert not [p for p in published if p.read_bytes() == image.read_bytes()]  # not under any name
    with builtin_server(load_config(instance / "config" / "syndicator.toml")) as srv:
        body = fetch(srv.url, f"/feeds/p/{TOKEN_A}/fr/atom.xml").body
        feed = feedparser.parse(body)
        (entry,) = [e for e in feed.entries if e.id.endswith("stall.html")]
        (href,) = [link.href for link in entry.links if link.rel == "enclosure"]
        path = urlsplit(href).path
        assert path.startswith(f"/feeds/p/{TOKEN_A}/fr/media/"), path
        assert path.encode() in body.replace(b"&amp;", b"&")  # the body's image too, under the same URL
        got = fetch(srv.url, path)
        assert got.status == 200 and got.body == image.read_bytes(), path
        assert got.headers["content-type"] == "image/png" and got.headers["cache-control"].startswith(
            "private"
        )
        name = path.rsplit("/", 1)[1]
        for wrong in (
            f"/feeds/media/{name}",  # not public
            f"/feeds/p/not-a-token/fr/media/{name}",
            f"/feeds/p/{TOKEN_A}/fr/media/{'0' * 32}.png",  # no such file
            f"/feeds/p/{TOKEN_A}/fr/media/../atom.xml",
            f"/feeds/p/{TOKEN_A}/fr/media/{name[:-4]}.html",
        ):
            assert fetch(srv.url, wrong).status == 404, wrong


def test_partners_add_prints_a_token_that_works(instance: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _cli(instance, "partners", "add", "ministry", "--languages", "fr,en") == 0
    out = capsys.readouterr().out
    token = out.split("token (shown once, only its hash is stored): ")[1].split()[0]
    text = (instance / "config" / "partners.toml").read_text(encoding="utf-8")
    assert token not in text and hash_token(token) in text
    with builtin_server(load_config(instance / "config" / "syndicator.toml")) as srv:
        assert fetch(srv.url, f"/feeds/p/{token}/en/atom.xml").status == 200
    assert _cli(instance, "partners", "add", "ministry") == 2  # the name is taken


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '[[partner]]\nname = "x"\ntoken_sha256 = "abc"\n',
            ["partners.toml:3: partner[0].token_sha256", "syndicator partners add"],
        ),
        (
            f'[[partner]]\nname = "x"\ntoken_sha256 = "{"0" * 64}"\nlanguages = ["de"]\n',
            ["partners.toml:4: partner[0].languages[0]", "'de' is not a published language"],
        ),
        (
            f'[[partner]]\nname = "x"\ntoken_sha256 = "{"0" * 64}"\ncolour = 1\n',
            ["partner[0].colour: unknown setting"],
        ),
        ("restricted = 3\n", ["partners.toml:1: restricted: expected a list"]),
        ("[[partner]\n", ["partners.toml:1: invalid TOML", "hint: "]),
    ],
)
def test_bad_partners_file_is_named_with_line_and_hint(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str], body: str, expected: list[str]
) -> None:
    root = make_instance(targets=("fr",), engine="pseudo")
    (root / "config" / "partners.toml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_partners(root / "config" / "partners.toml", ("en", "fr"))
    assert _cli(root, "check") == 2
    err = capsys.readouterr().err
    for part in expected:
        assert part in err, err


def test_find_checks_every_hash_and_skips_disabled_partners(tmp_path: Path) -> None:
    path = tmp_path / "partners.toml"
    path.write_text(_partners_toml() + "enabled = false\n", encoding="utf-8")  # disables "ngo"
    partners = load_partners(path, ("en", "fr"))
    assert TOKEN_A not in path.read_text(encoding="utf-8")  # only hashes are written down
    found = partners.find(TOKEN_A)
    assert found is not None and found.name == "embassy"
    assert partners.find(TOKEN_B) is None and partners.find("") is None
    assert partners.restricted == frozenset({"culture"})


def test_partner_languages_are_checked_like_the_config(tmp_path: Path) -> None:
    """One language check for all files: other spellings of a published language match, typos get a hint."""
    path = tmp_path / "partners.toml"
    token = "0" * 64
    path.write_text(
        f'[[partner]]\nname = "x"\ntoken_sha256 = "{token}"\nlanguages = ["pt_BR"]\n', encoding="utf-8"
    )
    (partner,) = load_partners(path, ("en", "pt-BR")).partners
    assert partner.languages == ("pt-BR",) and partner.may_read("pt-BR", ("en", "pt-BR"))
    path.write_text(
        f'[[partner]]\nname = "x"\ntoken_sha256 = "{token}"\nlanguages = ["Chinese"]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_partners(path, ("en", "zh"))
    assert str(caught.value) == (
        f"{path}:4: partner[0].languages[0]: unknown language 'Chinese' (hint: use the code: 'zh')"
    )
