"""A real HTTP server on 127.0.0.1 that serves fixture feeds and pages, and misbehaves when told to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "upstream"


# A reply this slow never comes in a test: every test's read timeout is far shorter, and close() ends the wait.
# (A delay just above the timeout would race it on a loaded machine.)
HANGS = 120.0


@dataclass
class Reply:
    """One canned answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line: a slow server
    truncate_at: int | None = None  # declare the full length, send only this many bytes, hang up
    filler: int = 0  # stream this many bytes of filler instead of body (a huge response)
    declare_length: bool = True  # send Content-Length (False: body ends when the connection closes)
    wait_for: str = ""  # hold the answer until a request for this path arrived (or 10 s passed)
    etag: str = ""  # send it, and answer 304 when the client sends it back
    last_modified: str = ""


def fixture(name: str, base: str = "", **kwargs: object) -> Reply:
    """A Reply with the bytes of tests/data/upstream/<name>, "{base}" replaced; HTML gets text/html."""
    if name.endswith(".html") and "content_type" not in kwargs:
        kwargs["content_type"] = "text/html; charset=utf-8"
    body = (DATA / name).read_bytes().replace(b"{base}", base.encode())
    return Reply(body=body, **kwargs)  # type: ignore[arg-type]


@dataclass
class Seen:
    """A request the server received."""

    path: str
    headers: dict[str, str]


class Upstream:
    """Routes path → replies; the replies are served in order and the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.sent: dict[str, int] = {}  # bytes of body written per path
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.stopping = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                upstream._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return self.base + path

    def set(self, path: str, *replies: Reply) -> None:
        """Serve these replies at `path`, in order; the last one repeats."""
        with self.lock:
            self.routes[path] = list(replies)

    def hits(self, path: str) -> list[Seen]:
        """Requests received for a path."""
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        """Stop serving; slow replies under way give up."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _next(self, path: str) -> Reply:
        with self.lock:
            self.requests.append(Seen(path, {}))
            self.arrived.notify_all()
            replies = self.routes.get(path)
            if not replies:
                return Reply(status=404, body=b"not found", content_type="text/plain")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        reply = self._next(h.path)
        with self.lock:
            self.requests[-1].headers = {k.lower(): v for k, v in h.headers.items()}
        if reply.delay and self.stopping.wait(reply.delay):
            return
        if reply.wait_for:
            with self.lock:
                self.arrived.wait_for(
                    lambda: any(r.path == reply.wait_for for r in self.requests), timeout=10
                )
        if reply.etag and h.headers.get("If-None-Match") == reply.etag:
            h.send_response(304)
            h.send_header("ETag", reply.etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(reply.status)
        h.send_header("Content-Type", reply.content_type)
        if reply.etag:
            h.send_header("ETag", reply.etag)
        if reply.last_modified:
            h.send_header("Last-Modified", reply.last_modified)
        for name, value in reply.headers.items():
            h.send_header(name, value)
        size = reply.filler or len(reply.body)
        if reply.declare_length:
            h.send_header("Content-Length", str(size))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        try:
            for chunk in self._chunks(reply):
                h.wfile.write(chunk)
                with self.lock:
                    self.sent[h.path] = self.sent.get(h.path, 0) + len(chunk)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client hung up (size cap, timeout): expected
        if reply.truncate_at is not None:
            h.close_connection = True

    def _chunks(self, reply: Reply) -> Iterator[bytes]:
        if reply.filler:
            block = b"x" * 65536
            left = reply.filler
            while left > 0 and not self.stopping.is_set():
                yield block[: min(left, len(block))]
                left -= len(block)
            return
        body = reply.body if reply.truncate_at is None else reply.body[: reply.truncate_at]
        yield body


def http_date(timestamp: float) -> str:
    """An HTTP date header value."""
    return formatdate(timestamp, usegmt=True)
