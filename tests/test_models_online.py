"""`models install --online` against a real HTTP server on 127.0.0.1 serving an index and tiny packages."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from syndicator import http
from syndicator.cli import main
from syndicator.translate.online import IndexEntry, choose


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static file server on 127.0.0.1: (base URL, folder it serves)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _publish(base: str, root: Path, files: list[Path], extra: list[dict] | None = None) -> str:  # type: ignore[type-arg]
    index = []
    for file in files:
        shutil.copy(file, root / file.name)
        pair, version = file.stem.removeprefix("translate-").rsplit("-", 1)
        src, tgt = pair.split("_")
        index.append({"type": "translate", "from_code": src, "to_code": tgt,
                      "package_version": version, "links": [base + file.name]})  # fmt: skip
    (root / "index.json").write_text(json.dumps(index + (extra or [])), encoding="utf-8")
    return f"translation.index_url={base}index.json"


def _run(root: Path, *args: str) -> int:
    return main(["--config", str(root / "config" / "syndicator.toml"), *args])


def test_online_install_direct_and_through_the_pivot(
    server: tuple[str, Path],
    make_instance: Callable[..., Path],
    model_files: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, www = server
    # Articles written in French; the index has fr→en and en→ar but no fr→ar, and en→ru in two versions.
    root = make_instance(source="fr", targets=("en", "ar"))
    index = _publish(base, www, [model_files("fr", "en"), model_files("en", "ar")],
                     extra=[{"from_code": "en", "to_code": "ar", "package_version": "0.1",
                             "links": [base + "old.argosmodel"]}])  # fmt: skip
    assert _run(root, "--set", index, "models", "install", "--online", "en", "ar") == 0
    out = capsys.readouterr().out
    assert "installed fr → en (version 1.0)" in out and "installed en → ar (version 1.0)" in out
    assert _run(root, "models", "list") == 0
    listing = capsys.readouterr().out
    assert "fr → en: argos, direct" in listing and "fr → ar: argos, through en" in listing
    assert "version 1.0" in listing and "MB" in listing

    # Installed at that version already: nothing is downloaded again.
    (www / "translate-fr_en-1.0.argosmodel").unlink()
    assert _run(root, "--set", index, "models", "install", "--online", "en") == 0
    assert "fr → en 1.0: already installed" in capsys.readouterr().out

    assert _run(root, "-q", "run", "--once") == 0
    assert "ar: 3 translated" in capsys.readouterr().out
    assert _run(root, "status", "--json") == 0
    assert json.loads(capsys.readouterr().out)["models"][1]["covered"] == "through en"

    # Removing one half of the pivot leaves the pair uncovered.
    assert _run(root, "models", "remove", "en-ar") == 0
    assert "removed en → ar (version 1.0)" in capsys.readouterr().out
    assert _run(root, "models", "list") == 0
    assert "fr → ar: argos, missing" in capsys.readouterr().out
    assert _run(root, "models", "remove", "en-ar") == 1
    assert "no package for en → ar" in capsys.readouterr().err


def test_online_install_errors_name_the_url_or_the_pair(
    server: tuple[str, Path],
    make_instance: Callable[..., Path],
    model_files: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, www = server
    root = make_instance(targets=("fr",))
    missing = f"translation.index_url={base}nowhere.json"
    assert _run(root, "--set", missing, "models", "install", "--online", "fr") == 1
    assert f"{base}nowhere.json: HTTP 404" in capsys.readouterr().err

    index = _publish(base, www, [model_files("en", "fr")])
    assert _run(root, "--set", index, "models", "install", "--online", "fr", "ko") == 1
    err = capsys.readouterr().err
    assert "no package for en → ko" in err
    assert "through en" not in err  # English is the source: there is no way round through it
    assert not list((root / "models").glob("translate-*"))  # nothing half-installed

    (www / "index.json").write_text("<html>not json</html>")
    assert _run(root, "--set", index, "models", "install", "--online", "fr") == 1
    assert "index.json: not a JSON package index" in capsys.readouterr().err


def test_download_is_capped_and_atomic(server: tuple[str, Path], tmp_path: Path) -> None:
    base, www = server
    (www / "big.bin").write_bytes(b"x" * 100_000)
    dest = tmp_path / "out" / "big.bin"
    with pytest.raises(http.FetchError, match="more than the 1000-byte limit"):
        http.HttpClient().download(base + "big.bin", dest, max_bytes=1000)
    assert not dest.exists() and not list(dest.parent.iterdir())
    assert (
        http.HttpClient().download(base + "big.bin", dest, max_bytes=1 << 20).read_bytes() == b"x" * 100_000
    )


def test_choose_prefers_direct_then_newest() -> None:
    def e(s: str, t: str, v: str) -> IndexEntry:
        return IndexEntry(s, t, v, (f"http://x/{s}{t}{v}",))

    index = [e("de", "fr", "1.0"), e("de", "en", "1.2"), e("de", "en", "1.10"), e("en", "ja", "1.0")]
    assert choose(index, "de", ["fr", "ja"], "en") == [e("de", "fr", "1.0"), e("de", "en", "1.10"),
                                                        e("en", "ja", "1.0")]  # fmt: skip
