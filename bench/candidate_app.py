"""The built-in server's ASGI app as a factory, so other ASGI servers can run it (bench/server_candidates.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from syndicator.config import load_config
from syndicator.localize import Catalogs
from syndicator.serve.server import FeedApp
from syndicator.store import Store


def app() -> FeedApp:
    """FeedApp for the instance named by $SYNDICATOR_CONFIG, watching its feeds folder."""
    config = load_config(Path(os.environ["SYNDICATOR_CONFIG"]))
    feed_app = FeedApp(config, Store(config.store.url), Catalogs(config.publish.locales_dir))
    if feed_app.watcher is not None:
        feed_app.watcher.start()
    feed_app.pulls.start()
    return feed_app


# Other ways to serve the same files, for comparison only (not dependencies: `pip install starlette
# whitenoise gunicorn` to include them in bench/server_candidates.py).


def starlette_app() -> object:
    """Starlette's StaticFiles on the feeds folder, with its GZipMiddleware (compresses per request)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    config = load_config(Path(os.environ["SYNDICATOR_CONFIG"]))
    files = StaticFiles(directory=config.publish.feeds_dir)
    return Starlette(
        routes=[Mount(config.serve.path.rstrip("/"), app=files)],
        middleware=[Middleware(GZipMiddleware, minimum_size=500)],
    )


def whitenoise_app() -> object:
    """WhiteNoise (WSGI) on the feeds folder; it serves the publisher's .gz copies for gzip."""
    from whitenoise import WhiteNoise

    config = load_config(Path(os.environ["SYNDICATOR_CONFIG"]))

    def not_found(environ: object, start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return WhiteNoise(not_found, root=str(config.publish.feeds_dir), prefix=config.serve.path)
