"""Connection limits of the built-in server: what uvicorn's httptools protocol leaves unbounded.

uvicorn offers `timeout_keep_alive` (armed only after a response, and reset by any byte received),
`limit_concurrency` (checked once a request's headers are complete, so a client that never completes them is
never refused; and accept() still takes a file descriptor for every connection) and
`h11_max_incomplete_event_size` (the slower h11 parser only); httptools (llhttp) reads headers of any size.
`GuardedProtocol` is uvicorn's httptools protocol with, per connection:

- a header deadline (`serve.header_timeout`) from the connection's start, or from the first byte of a later
  request, to the end of its headers; bytes do not extend it, so a client that drips headers (slowloris) is
  closed;
- an idle deadline between requests (`serve.keepalive_timeout`) that bytes do not extend either;
- a send watchdog (`serve.send_timeout`): a response whose bytes stop leaving the buffer is aborted;
- header limits (`serve.max_header_bytes`, `serve.max_headers`): `431` and close, without reading the rest;
- pipelining bounded like nginx's: uvicorn parses every request of a read at once and queues a task for each
  (300 pipelined requests are 300 queued requests, whatever the client reads). Here the parser is fed a slice at
  a time and stops as soon as one request waits behind the one being answered; the rest of the read is kept
  unparsed (at most PIPELINE_READAHEAD bytes, else the connection is closed) and reading stays paused until
  the response before it is complete. A client that does not read so holds one response and one read;
- a response for a connection the server has already closed (send watchdog, eviction) is dropped quietly and
  counted (`QuietCycle`): uvicorn would raise from the transport and log a traceback for each;

and per server (`Guard`), a connection cap below the open-file limit. A connection over the cap closes the
connection that has waited longest for a request (idle keep-alive, or still sending its headers), or else the
one whose client has longest not read its response (the transport's buffer over its high-water mark), so a
flood of slow or non-reading clients cannot lock out a client that sends its request at once; when every
connection is busy with a request that is still moving, the new one is answered `503` at once. The cap leaves room below RLIMIT_NOFILE for one listen backlog
of connections accepted in a burst and for the rest of the process (store, logs, fetches), so accept() never
meets EMFILE.
"""

from __future__ import annotations

import asyncio
import http
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from syndicator.config import ServeConfig

if TYPE_CHECKING:  # uvicorn's own type of what send() takes (a private module: for annotations only)
    from uvicorn._types import ASGISendEvent

log = logging.getLogger(__name__)

HEAD, IDLE, BUSY, CLOSING = "head", "idle", "busy", "closing"  # a connection's phase
WARN_EVERY = 60.0  # seconds between warnings about the connection cap (a flood must not flood the log)
RETRY_AFTER = b"5"  # seconds, in a 503 for too many connections
# Why the server closed or refused a connection (metrics, /status).
REASONS = (
    "header_timeout", "idle_timeout", "send_timeout", "too_large", "malformed", "pipelined", "evicted", "refused"
)  # fmt: skip
# The parser is fed this many bytes at a time, so at most one slice of requests is parsed ahead of the one being
# answered (a few dozen of the smallest requests; a browser's request is a few hundred bytes).
PARSE_SLICE = 512
# Pipelined request bytes kept unparsed per connection while a response is under way; more and it is closed
# (RFC 9112 9.3.2: a pipelining client retries what was not answered). nginx reads ahead about as much
# (large_client_header_buffers 4 x 8k).
PIPELINE_READAHEAD = 64 * 1024


def open_file_limit() -> int:
    """This process's soft RLIMIT_NOFILE (a large number when unlimited)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1 << 20 if soft == resource.RLIM_INFINITY else int(soft)


def listen_backlog(fd_limit: int) -> int:
    """The listen backlog: connections the kernel queues, all of which one accept burst may take."""
    return max(16, min(511, fd_limit // 8))


def connection_cap(setting: int, fd_limit: int) -> int:
    """Most connections served at once: serve.max_connections, never more than the descriptors allow.

    Room is left for one full listen backlog (libuv accepts until the queue is empty before any connection is
    looked at) and for the rest of the process: an eighth of the limit, at least 128 descriptors (measured:
    an idle `syndicator run` holds about 20; SQLite connections, fetches, Apertium pipes and logs come and go).
    """
    derived = max(1, fd_limit - listen_backlog(fd_limit) - max(128, fd_limit // 8))
    return min(setting, derived) if setting > 0 else derived


@dataclass(frozen=True)
class Limits:
    """What one client may hold of the server; times in seconds."""

    max_connections: int
    backlog: int = 511  # of the listening socket: connections the kernel queues before accept()
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    keepalive_timeout: float = 15.0
    send_timeout: float = 30.0

    @classmethod
    def from_config(cls, serve: ServeConfig, fd_limit: int | None = None) -> Limits:
        """The limits of serve.* settings, the cap derived from the open-file limit at this moment."""
        fd_limit = open_file_limit() if fd_limit is None else fd_limit
        cap = connection_cap(serve.max_connections, fd_limit)
        if serve.max_connections > cap:
            log.warning(
                "serve.max_connections = %d is more than %d open files allow: serving at most %d connections "
                "(raise LimitNOFILE / ulimit -n)",
                serve.max_connections, fd_limit, cap,
            )  # fmt: skip
        return cls(
            max_connections=cap,
            backlog=listen_backlog(fd_limit),
            max_header_bytes=serve.max_header_bytes,
            max_headers=serve.max_headers,
            header_timeout=serve.header_timeout.total_seconds(),
            keepalive_timeout=serve.keepalive_timeout.total_seconds(),
            send_timeout=serve.send_timeout.total_seconds(),
        )


class Guard:
    """The connections of one server: how many are open, which wait for a request, why others were closed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open = 0  # admitted and not yet closed or evicted
        # Connections waiting for a request (idle, or receiving headers), longest-waiting first.
        self.waiting: dict[GuardedProtocol, None] = {}
        # Busy connections whose client does not read (write buffer over the high-water mark), longest first.
        self.stalled: dict[GuardedProtocol, None] = {}
        self.dropped = 0  # responses not sent: the server had already closed the connection
        self.closed: Counter[str] = Counter()  # by reason, for /metrics and /status
        self._warned_at = 0.0
        self._warned: Counter[str] = Counter()

    def admit(self, conn: GuardedProtocol) -> bool:
        """Count a new connection in, closing the longest-waiting (else longest-stalled) one at the cap;
        False: refuse it."""
        if self.open >= self.limits.max_connections:
            victims = self.waiting or self.stalled
            if not victims:
                self.note("refused")
                return False
            victim = next(iter(victims))
            victim.evict()
            self.note("evicted")
        self.open += 1
        self.waiting[conn] = None
        return True

    def release(self, conn: GuardedProtocol) -> None:
        """A counted connection is gone."""
        self.open -= 1
        self.waiting.pop(conn, None)
        self.stalled.pop(conn, None)

    def metrics(self) -> list[str]:
        """Prometheus lines: open connections, the cap, connections the server closed or refused."""
        out = [
            "# HELP syndicator_http_connections Connections open now.",
            "# TYPE syndicator_http_connections gauge",
            f"syndicator_http_connections {self.open}",
            "# HELP syndicator_http_connection_limit The connection cap (serve.max_connections, LimitNOFILE).",
            "# TYPE syndicator_http_connection_limit gauge",
            f"syndicator_http_connection_limit {self.limits.max_connections}",
            "# HELP syndicator_http_connections_closed_total Connections the server closed or refused, by reason.",
            "# TYPE syndicator_http_connections_closed_total counter",
        ]
        for reason in REASONS:
            out.append(f'syndicator_http_connections_closed_total{{reason="{reason}"}} {self.closed[reason]}')
        out += [
            "# HELP syndicator_http_responses_dropped_total Responses not sent: the connection was already closed.",
            "# TYPE syndicator_http_responses_dropped_total counter",
            f"syndicator_http_responses_dropped_total {self.dropped}",
        ]
        return out

    def note(self, reason: str) -> None:
        """Count a connection closed or refused by the server, warning about the cap now and then."""
        self.closed[reason] += 1
        if reason not in ("evicted", "refused"):
            return
        self._warned[reason] += 1
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            log.warning(
                "connection cap reached (%d): %d waiting connection(s) closed, %d refused with 503 since the "
                "last warning (serve.max_connections, LimitNOFILE; docs/serving.md)",
                self.limits.max_connections, self._warned["evicted"], self._warned["refused"],
            )  # fmt: skip
            self._warned_at = now
            self._warned.clear()


class QuietCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, quiet when the server has closed the connection under it.

    uvicorn marks a cycle disconnected only in connection_lost, which the loop runs after close() or abort();
    a task woken in between (a write resumed, a pipelined request started) would write to a closed transport,
    which raises and logs "Exception in ASGI application". A client that went away is an expected outcome:
    its response is dropped and counted, never logged.
    """

    guard: Guard

    async def send(self, message: ASGISendEvent) -> None:
        while self.flow.write_paused and not self.disconnected:  # the client is slow: wait for room first
            await self.flow.drain()
        if not self.disconnected and not self.response_complete and self.transport.is_closing():
            self.disconnected = True
            self.guard.dropped += 1
        await super().send(message)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines, header limits and the connection cap (see the module)."""

    guard: ClassVar[Guard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = HEAD
        self._deadline: asyncio.TimerHandle | None = None
        self._admitted = False
        self._refused = False  # a refusal is written: everything after it is dropped
        self._head_bytes = 0  # bytes received while waiting for the end of a request's headers
        self._header_size = 0  # exact size of the request line and headers parsed so far
        self._header_count = 0
        self._unsent = 0  # output still buffered when the deadline was armed (the send watchdog's baseline)
        self._since = 0.0  # loop time the current wait for a request (HEAD or IDLE) began
        self._held = b""  # pipelined bytes received but not yet parsed (a response is under way)

    @classmethod
    def bound_to(cls, guard: Guard) -> type[GuardedProtocol]:
        """A protocol class whose connections share one Guard (uvicorn instantiates the class itself)."""
        return type("BoundGuardedProtocol", (cls,), {"guard": guard})

    # Connection events.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            self._refuse(503, b"too many connections; try again shortly\n", "refused")
            return
        self._admitted = True
        self._wait_for_request(HEAD)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._admitted:
            self._admitted = False
            self.guard.release(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused or not self._admitted:
            return
        if self._held:  # reading had resumed before the held requests were parsed: keep the order
            self._hold(self._held + data)
            return
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        """Parse `data` a slice at a time, holding back what follows a queued pipelined request."""
        for start in range(0, len(data), PARSE_SLICE):
            self._parse(data[start : start + PARSE_SLICE])
            if self._refused or self.transport.is_closing():
                return
            if self.pipeline and start + PARSE_SLICE < len(data):
                self._hold(data[start + PARSE_SLICE :])
                return

    def _hold(self, data: bytes) -> None:
        """Keep pipelined bytes unparsed, reading paused, until the response before them is complete."""
        if len(data) > PIPELINE_READAHEAD:
            self._held = b""
            self.guard.note("pipelined")
            self.transport.abort()  # (a client that pipelines this much retries what was not answered)
            return
        self._held = data
        self.flow.pause_reading()

    def _parse(self, data: bytes) -> None:
        if self._phase != BUSY:
            self._head_bytes += len(data)
        super().data_received(data)
        waiting = self._phase in (HEAD, IDLE) and not self._refused
        if waiting and self._head_bytes > self.guard.limits.max_header_bytes:  # an unfinished head too big
            self._refuse(431, b"request headers too large\n", "too_large")

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers a request httptools cannot parse with 400 and closes: counted, not logged."""
        self.guard.note("malformed")
        super().send_400_response(msg)

    def evict(self) -> None:
        """Close this waiting connection to make room for a new one (its descriptor is freed at once)."""
        self.guard.release(self)
        self._admitted = False
        self._held = b""
        self._disarm()
        self.transport.abort()

    def pause_writing(self) -> None:
        """The client reads more slowly than the response is written: evictable at the cap from now on."""
        super().pause_writing()
        if self._admitted:
            self.guard.stalled[self] = None

    def resume_writing(self) -> None:
        super().resume_writing()
        self.guard.stalled.pop(self, None)

    # Parser callbacks (httptools calls them from data_received).

    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        self._header_size = self._header_count = 0
        if self._phase == IDLE:  # the next request starts: its headers get header_timeout from now
            self._wait_for_request(HEAD)

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._header_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._header_count += 1
        self._header_size += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        limits = self.guard.limits
        # A head that arrived whole in one read is measured exactly here.
        if self._header_count > limits.max_headers or self._header_size > limits.max_header_bytes:
            self._refuse(431, b"request headers too large or too many\n", "too_large")
            return
        self._phase = BUSY
        self._head_bytes = 0
        self.guard.waiting.pop(self, None)
        self._arm(limits.send_timeout)
        super().on_headers_complete()
        if type(self.cycle) is RequestResponseCycle:  # (not for an upgrade, which leaves the cycle as it was)
            self.cycle.__class__ = QuietCycle  # same fields, a send that knows a closed connection
            cast(QuietCycle, self.cycle).guard = self.guard

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not self._admitted:
            return
        if self.transport.is_closing():  # Connection: close: only the send watchdog is left to do
            self._phase = CLOSING
            self.guard.waiting.pop(self, None)
            self._arm(self.guard.limits.send_timeout)
        elif pipelined:  # uvicorn started the next queued request
            self._arm(self.guard.limits.send_timeout)
        else:
            self._head_bytes = 0
            self.guard.waiting[self] = None  # waits again: the newest
            self._wait_for_request(IDLE)
            if self._held:  # the next pipelined requests, held back while this response was under way
                held, self._held = self._held, b""
                self._feed(held)

    # Deadlines.

    def timeout_keep_alive_handler(self) -> None:
        """uvicorn's own keep-alive timer: the idle deadline below does that job (and counts it)."""

    def _wait_for_request(self, phase: str) -> None:
        """Start the header (HEAD) or idle (IDLE) deadline; while output is still leaving, watch that first."""
        self._phase = phase
        self._since = self.loop.time()
        limits = self.guard.limits
        limit = limits.header_timeout if phase == HEAD else limits.keepalive_timeout
        unsent = self.transport.get_write_buffer_size()
        self._arm(min(limit, limits.send_timeout) if unsent else limit)

    def _arm(self, delay: float) -> None:
        self._disarm()
        self._unsent = self.transport.get_write_buffer_size()
        self._deadline = self.loop.call_later(delay, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        limits = self.guard.limits
        unsent = self.transport.get_write_buffer_size()
        if unsent:
            # A response is still leaving: fine while bytes go out; nothing went out for a whole period: abort.
            if 0 < self._unsent <= unsent:
                self.guard.note("send_timeout")
                self.transport.abort()
                return
            self._arm(limits.send_timeout)
            return
        if self._phase == CLOSING or self.transport.is_closing():
            return
        if self._phase == BUSY:  # the application is still preparing the response
            self._arm(limits.send_timeout)
            return
        limit = limits.header_timeout if self._phase == HEAD else limits.keepalive_timeout
        remaining = self._since + limit - self.loop.time()
        if remaining > 0.001:  # the watchdog woke first: the wait itself is not over yet
            self._arm(remaining)
            return
        self.guard.note("header_timeout" if self._phase == HEAD else "idle_timeout")
        self.transport.close()

    def _refuse(self, status: int, body: bytes, reason: str) -> None:
        """Answer `status` at once and close, reading nothing more."""
        self._refused = True
        self._disarm()
        self.guard.waiting.pop(self, None)
        if reason != "refused":
            self.guard.note(reason)
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *([(b"retry-after", RETRY_AFTER)] if status == 503 else []),
        ]
        lines += [name + b": " + value for name, value in headers]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()
