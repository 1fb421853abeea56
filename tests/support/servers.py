"""Real servers on 127.0.0.1 for tests: the built-in one in a thread, nginx as a non-daemon subprocess."""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from syndicator.config import Config
from syndicator.localize import Catalogs
from syndicator.serve.nginx import nginx_config
from syndicator.serve.server import FeedServer
from syndicator.store import Store


@dataclass
class Response:
    """What a test needs of an HTTP response."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


def fetch(base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Response:
    """One request with the path sent exactly as given (no client-side normalization of '..')."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


def raw_exchange(base: str, data: bytes, timeout: float = 30) -> bytes:
    """Send bytes as they are (a malformed or oversized request) and read until the server closes."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before reading everything
            sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


class _Replay(io.BytesIO):
    """Bytes already received, as the socket http.client reads responses from: one stream for all of them,
    which http.client's close after each response must not end."""

    def makefile(self, mode: str) -> io.BytesIO:
        return self

    def close(self) -> None:
        pass


def split_responses(data: bytes, methods: list[str]) -> list[Response]:
    """The responses, in order, in the bytes one connection received for pipelined requests of `methods`."""
    replay, responses = _Replay(data), []
    for method in methods:
        resp = http.client.HTTPResponse(cast(socket.socket, replay), method=method)
        try:
            resp.begin()
        except http.client.RemoteDisconnected:
            break  # the server closed: the rest were not answered
        body = resp.read()
        responses.append(Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body))
    return responses


def parse_head(response: bytes) -> tuple[int, dict[str, str]]:
    """Status code and lower-cased headers of a raw HTTP/1.1 response."""
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    return int(head[0].split()[1]), {k.strip().lower(): v.strip() for k, v in fields.items()}


@contextmanager
def builtin_server(config: Config) -> Iterator[FeedServer]:
    """The built-in server on a free port, in a background thread."""
    store = Store(config.store.url)
    server = FeedServer(config, store, Catalogs(config.publish.locales_dir))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        store.close()


@dataclass
class ServeProcess:
    """`syndicator serve` running as its own process."""

    proc: subprocess.Popen[bytes]
    base: str
    port: int
    output: str = ""  # what it printed, once stopped


@contextmanager
def serve_process(config_file: Path, nofile: int | None = None, *settings: str) -> Iterator[ServeProcess]:
    """`syndicator serve` on a free port, with RLIMIT_NOFILE (soft and hard) set to `nofile` if given and
    `settings` ("serve.x=y") as --set overrides.

    Yields once it answers /healthz; stopped with SIGTERM afterwards (output and exit code kept).
    """
    port = free_port()

    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen(
        [
            sys.executable, "-m", "syndicator", "--config", str(config_file), "--set", f"serve.port={port}",
            *(arg for setting in settings for arg in ("--set", setting)), "serve",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=limit,
    )  # fmt: skip
    served = ServeProcess(proc, f"http://127.0.0.1:{port}", port)
    try:
        for _ in range(600):  # a start-up wait, not a timed assertion
            if proc.poll() is not None:
                break
            try:
                fetch(served.base, "/healthz")
                break
            except OSError:
                time.sleep(0.05)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        served.output = proc.communicate(timeout=60)[0].decode(errors="replace")


def half_requests(port: int, count: int) -> list[socket.socket]:
    """`count` connections that each send the start of a request and never its end (slow clients)."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        with contextlib.suppress(OSError):  # the server may already have closed it to make room
            sock.sendall(b"GET /feeds/en/rss.xml HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    return socks


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str | None:
    """The nginx executable, if installed (Debian puts it in /usr/sbin)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


def nginx_main_conf(prefix: Path, server_block: str) -> str:
    """A complete nginx.conf around a server block: foreground, everything under a temp prefix."""
    temp = prefix / "temp"
    temp.mkdir(parents=True, exist_ok=True)
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
{server_block}
}}
"""


@contextmanager
def nginx_server(
    config: Config, prefix: Path, upstream: str, *, workers: int = 1, extra: str = ""
) -> Iterator[str]:
    """nginx running `syndicator nginx-config`'s block on a free 127.0.0.1 port; yields its base URL."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian package nginx)")
    port = free_port()
    block = nginx_config(config, listen=f"127.0.0.1:{port}", upstream=upstream)
    conf = nginx_main_conf(prefix, block).replace("worker_processes 1;", f"worker_processes {workers};")
    if workers > 1:
        conf = conf.replace("master_process off;\n", "")
        if os.geteuid() == 0:  # workers would drop to "nobody" and could not read a private temp folder
            conf = "user root;\n" + conf
    conf_file = prefix / "nginx.conf"
    conf_file.write_text(conf + extra, encoding="utf-8")
    proc = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf_file), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Wait for the listening socket: a start-up wait with a generous deadline, not a timed assertion.
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port} within 60 s") from None
                time.sleep(0.02)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
