"""The built-in server's ASGI app as a factory, so other ASGI servers can run it (bench/server_candidates.py)."""

from __future__ import annotations

import os
from pathlib import Path

from syndicator.config import load_config
from syndicator.localize import Catalogs
from syndicator.serve.server import FeedApp
from syndicator.store import Store


def app() -> FeedApp:
    """FeedApp for the instance named by $SYNDICATOR_CONFIG, watching its feeds folder."""
    config = load_config(Path(os.environ["SYNDICATOR_CONFIG"]))
    feed_app = FeedApp(config, Store(config.store.url), Catalogs(config.locales_dir))
    if feed_app.watcher is not None:
        feed_app.watcher.start()
    feed_app.pulls.start()
    return feed_app
