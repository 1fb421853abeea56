"""All network I/O: GETs with explicit timeouts, a size cap, a redirect limit, conditional GET and retries."""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import requests.adapters
from urllib3 import ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from syndicator import __version__
from syndicator.config import Config, HttpConfig, format_duration
from syndicator.errors import SourceError

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
USER_AGENT = f"Syndicator/{__version__}"
POOL_HOSTS = 8  # hosts whose idle connections one session keeps
POOL_PER_HOST = 4  # idle connections kept per host


@dataclass(frozen=True)
class Validators:
    """What a conditional GET sends back: the last ETag and Last-Modified of a URL."""

    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class Response:
    """A complete, size-checked response body (or a 304)."""

    url: str  # after redirects
    status: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    validators: Validators = Validators()

    @property
    def not_modified(self) -> bool:
        """The server said 304: nothing changed since the validators we sent."""
        return self.status == 304

    @property
    def declared_charset(self) -> str | None:
        """The charset the Content-Type header declares, if any."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


class FetchError(SourceError):
    """A URL could not be fetched; the message names the URL and what went wrong."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(f"{url}: {reason}", hint=hint)
        self.url = url
        self.reason = reason
        self.transient = transient  # worth trying again later
        self.retry_after = retry_after  # seconds the server asked us to wait


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# -- the deadline of one fetch --------------------------------------------------------------------------------
#
# Timeouts bound each wait for bytes, not a whole answer: a server that sends one byte every few seconds (in
# the TLS handshake, the headers or the body) never trips them. The deadline is kept by a watchdog thread
# that shuts down the fetch's connections when it passes, which ends a blocked read at once. Each socket is
# registered the moment urllib3 opens it, in the thread that fetches, as a duplicate descriptor: shutdown()
# acts on the connection behind every descriptor, and the duplicate stays valid when TLS wraps the socket
# or http.client hands it over to the response.

_current = threading.local()  # .watch: the _Watch of the fetch under way in this thread


class _Watch:
    """The deadline of one fetch: past it, every connection the fetch opened is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = threading.Event()
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._run, name="http-deadline", daemon=True).start()

    def left(self) -> float:
        """Seconds until the deadline (negative once it passed)."""
        return self.deadline - time.monotonic()

    def add(self, sock: socket.socket) -> None:
        """Watch a connection of this fetch."""
        with self.lock:
            if not self.finished.is_set():
                # A duplicate of the descriptor (fromfd dups it; an SSL socket cannot dup() itself).
                self.sockets.append(socket.fromfd(sock.fileno(), sock.family, sock.type))
        if self.expired.is_set():
            self._shut()  # opened just as the deadline passed

    def finish(self) -> None:
        """The fetch is over: stop watching and let go of the duplicates."""
        with self.lock:
            self.finished.set()
            for sock in self.sockets:
                sock.close()
            self.sockets.clear()

    def _shut(self) -> None:
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # already closed by the other side
                    sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        if self.finished.wait(max(0.0, self.left())):
            return
        self.expired.set()
        self._shut()


def _watched(sock: socket.socket) -> socket.socket:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.add(sock)
    return sock


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A kept-alive connection from the pool was opened by an earlier fetch: watch it for this one too.
        if self.sock is not None:
            _watched(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # see _WatchedHTTPConnection.request
            _watched(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connection pools register each connection with the fetch's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is ProxyManager:  # SOCKS managers keep their own pool classes
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


class HttpClient:
    """The instance's way out: the [http] settings (timeouts, caps, retries) and its User-Agent on every
    request, over kept-alive connections.

    requests does not promise that one Session is safe to share between threads, so the client keeps a few:
    each request borrows an idle one (or makes one) and gives it back when the response is read, so one
    session serves one thread at a time and there are never more than the requests under way at once. Each has
    a bounded connection pool: the pages of a web source, the next poll's requests, a model download and its
    index reuse connections instead of opening one per request.
    """

    def __init__(
        self,
        options: HttpConfig | None = None,
        *,
        contact: str = "",
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options or HttpConfig()
        # The contact address tells upstream admins whom to ask about our requests.
        self.user_agent = f"{USER_AGENT} (+{contact})" if contact else USER_AGENT
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._idle: list[requests.Session] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _session(self) -> Iterator[requests.Session]:
        with self._lock:
            session = self._idle.pop() if self._idle else None
        if session is None:
            session = requests.Session()
            session.max_redirects = self.options.max_redirects
            session.headers["User-Agent"] = self.user_agent
            # Retries are ours (get()); the pool keeps a few idle connections per host and never more.
            # Each connection it opens is registered with the deadline of the fetch under way (_Watch).
            adapter = _WatchedAdapter(pool_connections=POOL_HOSTS, pool_maxsize=POOL_PER_HOST, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        try:
            yield session
        finally:
            with self._lock:
                self._idle.append(session)

    def close(self) -> None:
        """Close the idle sessions' connections (a request under way keeps its own until it is done)."""
        with self._lock:
            sessions, self._idle = self._idle, []
        for session in sessions:
            session.close()

    def get(self, url: str, validators: Validators | None = None, *, accept: str = "*/*") -> Response:
        """GET a URL with retries, all within http.deadline; a 304 comes back as a Response, every failure
        as a FetchError."""
        watch = _Watch(self.options.deadline.total_seconds())
        _current.watch = watch
        try:
            return self._get(url, validators, accept, watch)
        finally:
            _current.watch = None
            watch.finish()

    def _get(self, url: str, validators: Validators | None, accept: str, watch: _Watch) -> Response:
        attempt = 0
        while True:
            try:
                response = self._get_once(url, validators, accept, watch)
            except FetchError as exc:
                if watch.expired.is_set():
                    raise _past_deadline(url, watch) from None
                if not exc.transient or attempt >= self.options.retries:
                    raise
                if exc.retry_after is not None:
                    if exc.retry_after > self.options.max_wait.total_seconds():
                        raise
                    wait = exc.retry_after
                else:
                    # Exponential backoff with full jitter keeps many instances from retrying in step.
                    base = self.options.backoff.total_seconds() * (2**attempt)
                    wait = base + self.rng.uniform(0, base)
                if wait >= watch.left():
                    raise  # no time left for another attempt
                attempt += 1
                log.info("%s; retry %d/%d in %.1fs", exc, attempt, self.options.retries, wait)
                self.sleep(wait)
                continue
            if watch.expired.is_set():
                # A body without a length that the watchdog cut off looks complete: never use it.
                raise _past_deadline(url, watch)
            return response

    def _get_once(self, url: str, validators: Validators | None, accept: str, watch: _Watch) -> Response:
        headers = {"Accept": accept}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        with self._session() as session:
            try:
                # The session outlives the request: its connection goes back to the pool for the next one.
                resp = session.get(url, headers=headers, timeout=self._timeouts(), stream=True)
            except requests.TooManyRedirects:
                raise FetchError(
                    url,
                    f"more than {self.options.max_redirects} redirects",
                    hint="point the source at the final address",
                ) from None
            except requests.ConnectTimeout:
                raise FetchError(
                    url,
                    f"no connection within {format_duration(self.options.connect_timeout)}",
                    transient=True,
                ) from None
            except requests.Timeout:
                raise FetchError(
                    url, f"no response within {format_duration(self.options.read_timeout)}", transient=True
                ) from None
            except requests.ConnectionError as exc:
                raise FetchError(url, f"cannot connect: {_root_cause(exc)}", transient=True) from None
            except requests.RequestException as exc:
                raise FetchError(url, f"request failed: {_root_cause(exc)}") from None
            with resp:
                return self._read(url, resp, watch)

    def _read(self, url: str, resp: requests.Response, watch: _Watch) -> Response:
        status = resp.status_code
        if status == 429 or status >= 500:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            after = f" (Retry-After: {wait:g}s)" if wait is not None else ""
            raise FetchError(
                url, f"HTTP {status} {resp.reason or ''}".rstrip() + after, transient=True, retry_after=wait
            )
        if status >= 400:
            raise FetchError(
                url, f"HTTP {status} {resp.reason or ''}".rstrip(), hint="check the source's url"
            )
        validators = Validators(resp.headers.get("ETag", ""), resp.headers.get("Last-Modified", ""))
        headers = {k.lower(): v for k, v in resp.headers.items()}
        if status == 304:
            return Response(resp.url, status, b"", headers, validators)
        content = self._body(url, resp, watch)
        return Response(resp.url, status, content, headers, validators)

    def _body(self, url: str, resp: requests.Response, watch: _Watch) -> bytes:
        cap = self.options.max_bytes
        too_big = FetchError(
            url,
            f"response is larger than http.max_bytes ({cap} bytes); it was cut off and not used",
            hint="raise http.max_bytes if this source is legitimately that big",
        )
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_content(CHUNK):
                size += len(chunk)
                if size > cap:
                    raise too_big
                if watch.left() < 0:
                    raise _past_deadline(url, watch)
                chunks.append(chunk)
        except requests.Timeout:
            raise FetchError(
                url,
                f"body stalled for more than {format_duration(self.options.read_timeout)}",
                transient=True,
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise FetchError(
                url, f"connection closed after {size} bytes: {_root_cause(exc)}", transient=True
            ) from None
        body = b"".join(chunks)
        if declared.isdigit() and len(body) < int(declared) and "content-encoding" not in resp.headers:
            raise FetchError(url, f"truncated body: {len(body)} of {declared} bytes", transient=True)
        return body

    def download(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int | None = None,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Stream a URL into `dest` atomically (temp file + rename), capped at max_bytes (http.max_bytes by
        default); progress(done, total) after each chunk; FetchError naming the URL on failure."""
        cap = self.options.max_bytes if max_bytes is None else max_bytes
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        out = os.fdopen(fd, "wb")
        try:
            with self._session() as session, session.get(url, timeout=self._timeouts(), stream=True) as resp:
                if resp.status_code >= 400:
                    raise FetchError(url, f"HTTP {resp.status_code} {resp.reason or ''}".rstrip())
                total_header = resp.headers.get("Content-Length", "")
                total = int(total_header) if total_header.isdigit() else None
                if total is not None and total > cap:
                    raise FetchError(url, f"{total} bytes is more than the {cap}-byte limit")
                done = 0
                for chunk in resp.iter_content(CHUNK):
                    done += len(chunk)
                    if done > cap:
                        raise FetchError(url, f"more than the {cap}-byte limit; download stopped")
                    out.write(chunk)
                    if progress is not None:
                        progress(done, total)
            out.close()
            os.replace(tmp, dest)
            return dest
        except requests.RequestException as exc:
            raise FetchError(url, f"download failed: {_root_cause(exc)}", transient=True) from None
        finally:
            out.close()
            if os.path.exists(tmp):
                os.unlink(tmp)

    def post_form(self, url: str, data: Mapping[str, str]) -> int:
        """POST an application/x-www-form-urlencoded body; return the status code; FetchError on failure.

        http.deadline bounds the whole exchange (a hub that drips its answer too)."""
        watch = _Watch(self.options.deadline.total_seconds())
        _current.watch = watch
        try:
            with (
                self._session() as session,
                session.post(url, data=dict(data), timeout=self._timeouts()) as r,
            ):
                return r.status_code
        except requests.RequestException as exc:
            if watch.expired.is_set():
                raise _past_deadline(url, watch) from None
            raise FetchError(url, f"POST failed: {_root_cause(exc)}", transient=True) from None
        finally:
            _current.watch = None
            watch.finish()

    def _timeouts(self) -> tuple[float, float]:
        return (self.options.connect_timeout.total_seconds(), self.options.read_timeout.total_seconds())


def client_for(config: Config) -> HttpClient:
    """The HTTP client of an instance: its [http] settings, and its site address as the contact."""
    return HttpClient(config.http, contact=config.site.link)


def _past_deadline(url: str, watch: _Watch, setting: str = "http.deadline") -> FetchError:
    spent = format_duration(timedelta(seconds=watch.seconds))
    within = f"{setting} ({spent})" if setting else spent
    return FetchError(
        url,
        f"no complete answer within {within}; cut off and not used",
        hint="the server sends too slowly"
        + (f"; raise {setting} if it is legitimately that slow" if setting else ""),
    )


def _root_cause(exc: BaseException) -> str:
    """The innermost reason, without urllib3's long wrapper text."""
    seen: Any = exc
    while True:
        inner = seen.__cause__ or seen.__context__
        if inner is None or inner is seen:
            break
        seen = inner
    if seen.args and isinstance(seen.args[-1], BaseException):
        seen = seen.args[-1]
    text = str(seen) or type(seen).__name__
    return text.split(": ", 1)[-1] if "object at 0x" in text else text
