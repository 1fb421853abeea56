"""A real S3 endpoint for tests: moto's server (PyPI `moto[server]`) as a subprocess on a free 127.0.0.1 port.

One server per test session (the `s3_server` fixture in tests/conftest.py); each test takes its own bucket
(the `s3` fixture), so tests never share objects. Any access key works and the region is us-east-1: the
fixture puts dummy credentials in the environment, where boto3 looks (and subprocesses inherit them).

Reusable by any test that publishes to object storage, e.g. a distributed end-to-end test:

    def test_x(s3: S3Bucket, make_instance):
        root = make_instance(extra=s3.publish_toml())   # [publish] target = "s3://<bucket>/feeds" …
        ...
        assert s3.relpaths() == [...]; s3.count("PUT")   # moto's request log

    distributed_config(..., publish=s3.publish_lines())   # tests/support/distributed.py's [publish] hook

Worker processes started afterwards inherit the test credentials the `s3` fixture put in the environment.

`FaultProxy` stands between a client and moto and fails chosen requests for real (an HTTP 500, or a connection
closed before any answer), for the fault-tolerance tests.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# A request line in moto's (werkzeug's) log, possibly with terminal colour codes around it.
_REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) (\S+) HTTP/[\d.]+(?:\x1b\[[0-9;]*m)*" (\d{3})')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Request:
    """One request moto served."""

    method: str
    path: str  # /bucket/key?query
    status: int


class S3Server:
    """moto_server on 127.0.0.1:<free port>, its request log in a file."""

    def __init__(self, folder: Path) -> None:
        self.log = folder / "moto.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        moto = Path(sys.executable).with_name("moto_server")
        command = [str(moto)] if moto.exists() else [sys.executable, "-m", "moto.server"]
        for _ in range(5):  # a free port can be taken before moto binds it: try another
            self.port = _free_port()
            with self.log.open("ab") as out:
                self.proc = subprocess.Popen(
                    [*command, "-H", "127.0.0.1", "-p", str(self.port)],
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"moto_server did not start: {self.log.read_text(errors='replace')[-2000:]}")

    @property
    def endpoint(self) -> str:
        """The endpoint URL (publish.s3_endpoint)."""
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 60  # a start-up wait on a loaded machine, not a timed assertion
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                try:
                    conn.request("GET", "/moto-api/")
                    if conn.getresponse().status < 500:
                        return True
                finally:
                    conn.close()
            time.sleep(0.1)
        return False

    def client(self, endpoint: str = "") -> Any:
        """A boto3 client of this server (or of a proxy in front of it)."""
        import boto3

        return boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def requests(self) -> list[Request]:
        """Every request served so far, in order."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [Request(m[1], m[2], int(m[3])) for m in _REQUEST.finditer(text)]

    def stop(self) -> None:
        """Stop the server (its whole process group)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


@contextmanager
def running_s3_server(folder: Path) -> Iterator[S3Server]:
    """A moto server for the duration of the block."""
    server = S3Server(folder)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class S3Bucket:
    """A fresh bucket on the test S3 server, with what tests ask of it."""

    server: S3Server
    name: str
    prefix: str = "feeds"
    client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = self.server.client()
        self.client.create_bucket(Bucket=self.name)

    @property
    def target(self) -> str:
        """publish.target for this bucket and prefix."""
        return f"s3://{self.name}/{self.prefix}" if self.prefix else f"s3://{self.name}"

    def publish_lines(self, endpoint: str = "", **extra: str) -> str:
        """The [publish] settings (TOML lines, no table header) that write here; `extra` adds keys (values
        already TOML). For a config that builds its own [publish] table (tests/support/distributed.py)."""
        lines = [f'target = "{self.target}"', f's3_endpoint = "{endpoint or self.server.endpoint}"']
        lines += [f"{k} = {v}" for k, v in extra.items()]
        return "\n".join(lines) + "\n"

    def publish_toml(self, endpoint: str = "", **extra: str) -> str:
        """A [publish] table (TOML text) writing here, to append to a config."""
        return "\n[publish]\n" + self.publish_lines(endpoint, **extra)

    def key(self, relpath: str) -> str:
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def relpaths(self) -> list[str]:
        """Relpaths of every object under the prefix, sorted."""
        base = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=base):
            found += [item["Key"][len(base) :] for item in page.get("Contents", ())]
        return sorted(found)

    def get(self, relpath: str) -> dict[str, Any]:
        """GetObject's answer for a relpath (Body already read into "data")."""
        reply = dict(self.client.get_object(Bucket=self.name, Key=self.key(relpath)))
        reply["data"] = reply.pop("Body").read()
        return reply

    def put(self, relpath: str, data: bytes, **args: Any) -> None:
        self.client.put_object(Bucket=self.name, Key=self.key(relpath), Body=data, **args)

    def requests(self, method: str = "") -> list[Request]:
        """Requests moto served for this bucket (of one method when given)."""
        mine = f"/{self.name}"
        return [
            r
            for r in self.server.requests()
            if (r.path == mine or r.path.startswith((mine + "/", mine + "?")))
            and (not method or r.method == method)
        ]

    def count(self, method: str) -> int:
        """How many requests of a method (PUT, HEAD, GET, DELETE) this bucket has had."""
        return len(self.requests(method))

    def make_public(self) -> None:
        """Let anyone GET the objects under the prefix (a bucket policy), as a proxy or CDN in front needs."""
        import json

        resource = f"arn:aws:s3:::{self.name}/{self.prefix + '/' if self.prefix else ''}*"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}
            ],
        }
        self.client.put_bucket_policy(Bucket=self.name, Policy=json.dumps(policy))


def new_bucket(server: S3Server, prefix: str = "feeds") -> S3Bucket:
    """A bucket with a name no other test uses."""
    return S3Bucket(server, f"test-{uuid.uuid4().hex[:20]}", prefix)


# -- a proxy that fails chosen requests ------------------------------------------------------------------

Rule = Callable[[str, str], str]  # (method, path) -> "" (forward), "500" or "drop"


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of moto: forwards every request, except those `rule` picks, which
    get a 500 or a connection closed before any answer. `seen` lists what reached it."""

    def __init__(self, upstream: str, rule: Rule) -> None:
        self.rule = rule
        self.seen: list[tuple[str, str, str]] = []  # (method, path, what was done)
        host, port = upstream.removeprefix("http://").rsplit(":", 1)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = proxy.rule(self.command, self.path)
                proxy.seen.append((self.command, self.path, action or "forward"))
                if action == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action == "500":
                    message = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(message)))
                    self.end_headers()
                    self.wfile.write(message)
                    return
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                    }
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    reply = conn.getresponse()
                    data = reply.read()
                finally:
                    conn.close()
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in (
                        "content-length",
                        "connection",
                        "transfer-encoding",
                        "server",
                        "date",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
