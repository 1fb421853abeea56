"""The built-in HTTP server: a bare ASGI app on uvicorn (httptools parser, uvloop) serving feeds/ from memory.

Routes, under serve.path (e.g. /feeds/): published files; `feed`, `feed.atom`, `feed.json` redirect to
the reader's language (Accept-Language); `p/<token>/<lang>/<file>` and `p/<lang>/<file>` with
`Authorization: Bearer <token>` are partner feeds. `/healthz`, `/metrics` and `/status` are at the root, and
`/` redirects to serve.path, whose index.html is the landing page.
Public files come from a bounded cache filled on demand through the feed writer (a folder or a bucket): a hit
does no I/O, no hashing and no SQL; a miss reads the one file in a worker thread. See filecache.py. What one
client may hold (connections, header bytes, time) is bounded below the HTTP layer: see guard.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

from babel import negotiate_locale

from syndicator.config import Config
from syndicator.glossary import EMPTY, Glossary
from syndicator.localize import Catalogs
from syndicator.models import MEDIA_DIR, CycleReport
from syndicator.partners import PartnerRegistry
from syndicator.publish.media import cache_control, is_media_file
from syndicator.publish.writer import FeedSource, LocalFolderWriter, make_writer
from syndicator.serve.filecache import WATCHED_RECHECK, CachedFile, FileCache, FolderWatcher, wants_html
from syndicator.serve.guard import RETRY_AFTER, Guard, GuardedProtocol, Limits
from syndicator.serve.headers import CSP, NOSNIFF, STATUS_POLICY
from syndicator.serve.partner_feeds import FEED_FILES, PartnerFeedCache
from syndicator.serve.stats import Counters, PullRecorder, render_metrics
from syndicator.serve.statuspage import render_status_page
from syndicator.status import collect_status
from syndicator.store import Store

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

NEGOTIATED = {"feed": "rss.xml", "feed.atom": "atom.xml", "feed.json": "feed.json"}
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STATUS_TTL = 5.0  # seconds one rendering of /status is reused: a busy page must not keep SQLite busy
_LOCAL_ONLY = b"the status page answers only on the loopback address (see docs/serving.md)\n"
_NOT_FOUND = b"not found: every language's feeds are listed on the landing page, /\n"
_UNAVAILABLE = b"the published files cannot be read right now; try again shortly\n"
STORAGE_WARN_EVERY = 60.0  # seconds between log lines about unreadable published files
_404_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_NOT_FOUND)).encode()),
    (b"cache-control", b"no-store"),
]


class Health:
    """Liveness and the outcome of the last publish, for /healthz."""

    def __init__(self) -> None:
        self.last_publish: datetime | None = None
        self.last_error = ""
        self.published_files = 0

    def listener(self, report: CycleReport, error: str) -> None:
        """A pipeline publish listener."""
        self.last_publish = datetime.now(UTC)
        self.last_error = error
        self.published_files += len(report.written)


class FeedApp:
    """The ASGI application."""

    def __init__(
        self,
        config: Config,
        store: Store,
        catalogs: Catalogs,
        health: Health | None = None,
        glossary: Glossary = EMPTY,
        source: FeedSource | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.prefix = config.serve.path
        serve = config.serve
        max_age = int(serve.max_age.total_seconds())
        archive_max_age = int(serve.archive_max_age.total_seconds())
        # The writer publishing uses (inside `run`, so its writes reach the cache at once) or one of our own.
        self.source: FeedSource = source if source is not None else cast(FeedSource, make_writer(config))
        watched = isinstance(self.source, LocalFolderWriter)
        self.cache = FileCache(
            self.source,
            lambda relpath: cache_control(relpath, max_age, archive_max_age),
            use_brotli=serve.brotli,
            max_bytes=serve.cache_bytes,
            # A folder is watched (and re-checked now and then); a bucket is asked again after serve.refresh.
            revalidate_after=WATCHED_RECHECK if watched else serve.refresh.total_seconds(),
            remember_missing=not watched,
        )
        self.watcher = (
            FolderWatcher(self.source.root, self.cache, serve.refresh.total_seconds())
            if isinstance(self.source, LocalFolderWriter)  # (`watched`, spelled out for the type checker)
            else None
        )
        self.source.listeners.append(self.cache.changed)
        self.partners = PartnerRegistry(config.partners_file, config.languages.all)
        self.partner_feeds = PartnerFeedCache(config, store, catalogs, glossary)
        self.cache.listeners.append(self.partner_feeds.clear)
        self.counters = Counters()
        self.cache.listeners.append(lambda changed: self._count_changes(len(changed)))
        self.pulls = PullRecorder(store.record_pulls)
        self.health = health or Health()
        self._redirect_cc = f"public, max-age={max_age}".encode()
        self._status_page: tuple[float, bytes] | None = None  # (monotonic time rendered, page)
        self._status_lock = threading.Lock()
        self._storage_warned = float("-inf")
        # The connection cap is derived from the open-file limit now, at start-up.
        self.guard = Guard(Limits.from_config(config.serve))

    def _count_changes(self, n: int) -> None:
        self.counters.files_changed += n

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"]
        path: str = scope["path"]
        if method not in ("GET", "HEAD"):
            await self._plain(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
            return
        headers = {k: v for k, v in scope["headers"]}
        if path.startswith(self.prefix):
            rel = path[len(self.prefix) :]
            # A folder shows its index.html (the landing page at the root), never a listing.
            try:
                cached = await self._lookup(rel + "index.html" if rel == "" or rel.endswith("/") else rel)
            except OSError as exc:  # the bucket (or disk) failed: not a 404, which caches would keep
                await self._unavailable(send, exc)
                return
            if cached is not None:
                await self._file(scope, send, headers, cached, "file", "")
                return
            if rel in NEGOTIATED:
                await self._negotiate(send, headers, NEGOTIATED[rel])
                return
            if rel.startswith("p/"):
                await self._partner(scope, send, headers, rel[2:])
                return
        if path == "/healthz":
            await self._healthz(send)
            return
        if path == "/metrics":
            text = await asyncio.to_thread(self._metrics)
            await self._plain(
                send, 200, text.encode(), content_type=b"text/plain; version=0.0.4; charset=utf-8"
            )
            return
        if path == "/status":
            await self._status(scope, send)
            return
        if path.lstrip("/") in NEGOTIATED:  # /feed at the root too, whatever serve.path is
            await self._negotiate(send, headers, NEGOTIATED[path.lstrip("/")])
            return
        if self.prefix != "/" and path in ("/", self.prefix.rstrip("/")):  # the root, the prefix without "/"
            await self._to_landing_page(send)
            return
        await self._not_found(send)

    async def _to_landing_page(self, send: Send) -> None:
        """A temporary redirect to the landing page (serve.path may change: a permanent one would stay in
        browsers' caches); nginx-config writes the same one (serve/nginx.py)."""
        self.counters.count("redirect", 302)
        extra = [(b"location", self.prefix.encode()), (b"cache-control", self._redirect_cc)]
        await self._plain(send, 302, b"", extra)

    async def _lookup(self, relpath: str) -> CachedFile | None:
        """A published file: from memory, or read through the source in a worker thread."""
        if relpath in NEGOTIATED or relpath.startswith("p/"):
            return None  # application routes, never files (and no read for each of them)
        known, found = self.cache.cached(relpath)
        if not known:
            return await asyncio.to_thread(self.cache.get, relpath)
        return found

    async def _file(
        self,
        scope: Scope,
        send: Send,
        headers: dict[bytes, bytes],
        cached: CachedFile,
        kind: str,
        partner: str,
    ) -> None:
        _coding, variant = cached.choose(headers.get(b"accept-encoding", b"").decode("latin-1"))
        status = 304 if _not_modified(headers, cached) else 200
        if cached.relpath.rsplit("/", 1)[-1] in FEED_FILES:
            agent = headers.get(b"user-agent", b"").decode("latin-1")
            self.pulls.record(partner, cached.relpath, status == 304, agent)
            kind = "partner" if partner else "feed"
        self.counters.count(kind, status)
        if status == 304:
            await send({"type": "http.response.start", "status": 304, "headers": variant.not_modified})
            await send({"type": "http.response.body", "body": b""})
            return
        response_headers = variant.headers
        if variant.browser is not None and wants_html(headers.get(b"accept", b"").decode("latin-1")):
            response_headers = variant.browser
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        body = b"" if scope["method"] == "HEAD" else variant.body
        await send({"type": "http.response.body", "body": body})

    async def _unavailable(self, send: Send, exc: OSError) -> None:
        now = time.monotonic()
        if now - self._storage_warned > STORAGE_WARN_EVERY:  # a flood of requests must not flood the log
            self._storage_warned = now
            log.error("cannot read the published files: %s", exc)
        self.counters.count("other", 503)
        await self._plain(send, 503, _UNAVAILABLE, [(b"retry-after", RETRY_AFTER)])

    async def _negotiate(self, send: Send, headers: dict[bytes, bytes], name: str) -> None:
        try:
            available = [lang for lang in self.config.languages.all if await self._lookup(f"{lang}/{name}")]
        except OSError as exc:
            await self._unavailable(send, exc)
            return
        if not available:
            await self._not_found(send)
            return
        wanted = parse_accept_language(headers.get(b"accept-language", b"").decode("latin-1"))
        lang = negotiate_locale(wanted, available, sep="-") if wanted else None
        if lang is None:
            lang = self.config.languages.source if self.config.languages.source in available else available[0]
        self.counters.count("redirect", 302)
        location = f"{self.prefix}{lang}/{name}".encode()
        extra = [
            (b"location", location),
            (b"vary", b"Accept-Language"),
            (b"cache-control", self._redirect_cc),
        ]
        await self._plain(send, 302, b"", extra)

    async def _partner(self, scope: Scope, send: Send, headers: dict[bytes, bytes], rest: str) -> None:
        parts = rest.split("/")
        auth = headers.get(b"authorization", b"").decode("latin-1")
        bearer = auth[:7].lower() == "bearer "
        # A restricted entry's file: <token>/<lang>/media/<file>, or <lang>/media/<file> with a bearer token.
        media = (len(parts) == 4 and parts[2] == MEDIA_DIR) or (
            len(parts) == 3 and parts[1] == MEDIA_DIR and bearer
        )
        if media:
            token = parts[0] if len(parts) == 4 else auth[7:].strip()
            language, name, base = parts[-3], f"{MEDIA_DIR}/{parts[-1]}", ""
        elif len(parts) == 3:  # <token>/<lang>/<file>
            token, language, name = parts
            base = f"{self.config.site.feeds_url}p/{token}/{language}/"
        elif len(parts) == 2 and bearer:  # <lang>/<file> with a bearer token
            token, (language, name) = auth[7:].strip(), parts
            base = f"{self.config.site.feeds_url}p/{language}/"
        else:
            await self._not_found(send)
            return
        current = self.partners.current()
        partner = current.find(token) if token else None
        if (
            partner is None
            or not (is_media_file(name) if media else name in FEED_FILES)
            or not partner.may_read(language, self.config.languages.all)
        ):
            # Unknown, revoked and not-allowed all look the same: no hint which it was.
            self.counters.count("partner", 404)
            await self._not_found(send)
            return
        if media:
            file = await asyncio.to_thread(self.partner_feeds.media, name)
            if file is None:
                self.counters.count("partner", 404)
                await self._not_found(send)
                return
            await self._file(scope, send, headers, file, "partner", partner.name)
            return
        cached = await asyncio.to_thread(
            self.partner_feeds.get, partner, current.restricted, language, name, base
        )
        await self._file(scope, send, headers, cached, "partner", partner.name)

    async def _healthz(self, send: Send) -> None:
        # Public (nginx-config passes it through): healthy or not, nothing else. Errors name partners, paths
        # and config keys: they are on the loopback-only /status (details()).
        failing = bool(self.health.last_error)
        data = (json.dumps({"status": "failing" if failing else "ok"}) + "\n").encode()
        await self._plain(send, 503 if failing else 200, data, content_type=b"application/json")

    def details(self) -> dict[str, Any]:
        """This server process's health in full, for /status."""
        h = self.health
        self.partners.current()  # re-reads the file if it changed, so its error is today's
        return {
            "last_publish": h.last_publish,
            "last_error": h.last_error,
            "files": len(self.cache),
            "cache_bytes": self.cache.bytes,
            "partners_file_error": self.partners.error,
            "connections": self.guard.open,
            "max_connections": self.guard.limits.max_connections,
            "closed": dict(self.guard.closed),
        }

    async def _status(self, scope: Scope, send: Send) -> None:
        # Partners' names and error messages are on the page: loopback clients only (nginx-config lets
        # only 127.0.0.1 through to it too), so serve.host = 0.0.0.0 does not publish it to the world.
        if not _is_loopback(scope.get("client")):
            self.counters.count("status", 403)
            await self._plain(send, 403, _LOCAL_ONLY)
            return
        page = await asyncio.to_thread(self.status_page)
        self.counters.count("status", 200)
        policy = [(CSP.lower().encode(), STATUS_POLICY.encode())]
        await self._plain(send, 200, page, policy, content_type=b"text/html; charset=utf-8")

    def status_page(self) -> bytes:
        """The status page HTML, rendered at most once per STATUS_TTL seconds."""
        with self._status_lock:  # concurrent requests wait for one rendering instead of each reading SQLite
            cached = self._status_page
            if cached is not None and time.monotonic() - cached[0] < STATUS_TTL:
                return cached[1]
            page = render_status_page({**collect_status(self.config, history=True), "server": self.details()})
            self._status_page = (time.monotonic(), page)
            return page

    def _metrics(self) -> str:
        backlog = {lang: c.get("pending", 0) for lang, c in self.store.counts().items()}
        text = render_metrics(self.counters, backlog, self.health.published_files, self.health.last_error)
        return text + "\n".join([*self.guard.metrics(), *self.cache.metrics()]) + "\n"

    async def _not_found(self, send: Send) -> None:
        self.counters.count("other", 404)
        await send({"type": "http.response.start", "status": 404, "headers": _404_HEADERS})
        await send({"type": "http.response.body", "body": _NOT_FOUND})

    @staticmethod
    async def _plain(
        send: Send,
        status: int,
        body: bytes,
        extra: Sequence[tuple[bytes, bytes]] = (),
        content_type: bytes = b"text/plain; charset=utf-8",
    ) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
        if not any(k == b"cache-control" for k, _ in extra):
            headers.append((b"cache-control", b"no-store"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _is_loopback(client: Any) -> bool:
    """Whether an ASGI client (host, port) is on this machine's loopback."""
    if not client:
        return False
    try:
        return ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False


def _not_modified(headers: dict[bytes, bytes], cached: CachedFile) -> bool:
    """RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only without it."""
    inm = headers.get(b"if-none-match")
    if inm is not None:
        return cached.matches(inm.decode("latin-1"))
    ims = headers.get(b"if-modified-since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return cached.last_modified <= since.timestamp()


def parse_accept_language(header: str) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 and "*" left out)."""
    tags: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            tags.append((-q, i, tag))
    return [tag for _, _, tag in sorted(tags)]


class FeedServer:
    """The app on uvicorn, in a background thread (inside `run`) or in the foreground (`serve`)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        catalogs: Catalogs,
        health: Health | None = None,
        glossary: Glossary = EMPTY,
        source: FeedSource | None = None,
    ) -> None:
        import uvicorn

        self.config = config
        self.app = FeedApp(config, store, catalogs, health, glossary, source)
        limits = self.app.guard.limits
        # One accept burst takes at most the backlog: guard.connection_cap leaves that many descriptors free.
        backlog = limits.backlog
        self.sock = socket.create_server((config.serve.host, config.serve.port), backlog=backlog)
        self.port = self.sock.getsockname()[1]
        self.uvicorn = uvicorn.Server(
            uvicorn.Config(
                self.app,
                lifespan="off",
                access_log=False,
                # uvicorn warns once per malformed request: a client could fill the log. /metrics counts them.
                log_level="error",
                http=GuardedProtocol.bound_to(self.app.guard),
                ws="none",
                loop="uvloop",
                server_header=False,
                headers=[NOSNIFF],  # on every response, uvicorn's own 400/500 and the guard's 431/503 too
                backlog=backlog,
                # Stopping waits this long for responses under way (a stalled one is the send watchdog's).
                timeout_graceful_shutdown=5,
            )
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """The base URL it listens on."""
        host = self.config.serve.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def _prepare(self) -> None:
        if self.app.watcher is not None:
            self.app.watcher.start()
        self.app.pulls.start()
        log.info("serving %s at %s%s", self.config.publish.location, self.url, self.config.serve.path)

    def start(self) -> None:
        """Serve in a background thread; returns once it accepts connections."""
        self._prepare()
        thread = threading.Thread(target=self.uvicorn.run, kwargs={"sockets": [self.sock]}, name="http")
        thread.daemon = True
        thread.start()
        self._threads.append(thread)
        while not self.uvicorn.started and thread.is_alive():
            self._stop.wait(0.01)

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C or SIGTERM."""
        self._prepare()
        stopped: list[int] = []
        # uvicorn re-raises the signal it stopped on; with these handlers that is a clean exit (code 0)
        # after the pull statistics are written, instead of a KeyboardInterrupt or a kill by SIGTERM.
        previous = {
            sig: signal.signal(sig, lambda signum, _frame: stopped.append(signum)) for sig in _STOP_SIGNALS
        }
        try:
            self.uvicorn.run(sockets=[self.sock])
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if stopped:
            log.info("stopped by %s", signal.Signals(stopped[0]).name)

    def stop(self) -> None:
        """Stop serving, flush the pull statistics."""
        self.uvicorn.should_exit = True
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=10)
        if self.app.watcher is not None:
            self.app.watcher.stop()
        with contextlib.suppress(ValueError):  # the writer outlives the server inside `run`
            self.app.source.listeners.remove(self.app.cache.changed)
        self.app.pulls.stop()
        self.sock.close()


def listen_hint(exc: OSError) -> str:
    """What to change after a failed bind: the host when the address is wrong, else the port.

    A host that does not resolve (socket.gaierror) or is not one of this machine's addresses
    (EADDRNOTAVAIL) is the host's fault; pointing at the port then sends the operator the wrong way.
    """
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return "check serve.host: use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
    if exc.errno in (errno.EADDRINUSE, errno.EACCES):
        return "pick another port with --set serve.port=N (ports below 1024 need root)"
    return "check serve.host and serve.port"


def start_in_background(ctx: Any) -> FeedServer | None:
    """Start the server for a pipeline Context (inside `syndicator run`), unless serve.enabled is off."""
    if not ctx.config.serve.enabled:
        return None
    serve = ctx.config.serve
    try:
        # The publisher's own writer: each file it writes or deletes leaves the server's cache at once.
        source = ctx.writer if isinstance(ctx.writer, FeedSource) else None
        server = FeedServer(
            ctx.config, ctx.store, ctx.catalogs, glossary=ctx.faithful.glossary, source=source
        )
    except OSError as exc:
        # Publishing matters more than serving (nginx may serve the files): say so loudly and go on.
        log.error(
            "not serving: cannot listen on %s:%s (%s); %s, or set serve.enabled = false",
            serve.host, serve.port, exc.strerror or exc, listen_hint(exc),
        )  # fmt: skip
        return None
    ctx.publish_listeners.append(server.app.health.listener)
    server.start()
    return server
