"""`syndicator worker`: a Celery worker that consumes only the queues of its language pairs (and `publish`
when asked), with their models loaded once per process and kept."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from typing import Any

from celery.signals import worker_process_init
from celery.utils.nodenames import host_format

from syndicator.config import Config
from syndicator.distributed.app import PUBLISH_QUEUE, make_app, queue_name
from syndicator.distributed.tasks import worker_context
from syndicator.errors import ConfigError, SyndicatorError

log = logging.getLogger(__name__)

WARM_UP = "Ready."  # translated once per pair at start, so the first task does not pay for loading the model
PAIR = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)*\Z")


def parse_pairs(config: Config, text: str) -> list[tuple[str, str]]:
    """`en-fr,en-ar` → [("en", "fr"), ("en", "ar")]; "" means every configured pair (source → each target).
    ConfigError naming the pair when one is malformed or its target is not configured."""
    if not text.strip():
        return [(config.languages.source, t) for t in config.languages.targets]
    pairs = []
    for part in (p.strip() for p in text.split(",")):
        source, sep, target = part.partition("-")
        if not part or not sep or not PAIR.match(source) or not PAIR.match(target):
            raise ConfigError(f"--pairs: {part!r} is not a language pair", hint="e.g. --pairs en-fr,en-ar")
        if target not in config.languages.all:
            raise ConfigError(
                f"--pairs: {part}: {target!r} is not a configured language",
                hint="configured: " + ", ".join(config.languages.all),
            )
        pairs.append((source, target))
    return pairs


def run_worker(
    config: Config,
    pairs: Sequence[tuple[str, str]],
    *,
    publish: bool = False,
    concurrency: int = 1,
    loglevel: str = "INFO",
) -> int:
    """Consume the pairs' queues (and the publish queue) until stopped (SIGTERM: finish the task under way).
    Returns the worker's exit code."""
    if not pairs and not publish:
        raise ConfigError("the worker has nothing to consume", hint="give --pairs, or --publish")
    app = make_app(config)
    queues = [queue_name(f"{s}-{t}") for s, t in pairs] + ([PUBLISH_QUEUE] if publish else [])

    def preload(**_: Any) -> None:
        # Each worker process loads its pairs' models once, before its first task (engines load lazily:
        # one sentence through each pair loads it for good).
        ctx = worker_context(app)
        for source, target in pairs:
            try:
                pair = ctx.engine_for(target).pair(source, target)
                if pair is None:
                    log.warning("%s-%s: no model installed; its tasks mark articles no-model", source, target)
                else:
                    pair.translate_batch([WARM_UP])
            except SyndicatorError as exc:
                log.error("%s-%s: %s", source, target, exc)
        log.info(
            "worker process %d: models loaded for %s", os.getpid(), ", ".join(f"{s}-{t}" for s, t in pairs)
        )

    worker_process_init.connect(preload, weak=False)
    name = "+".join(f"{s}-{t}" for s, t in pairs) or "publish"
    worker = app.Worker(
        queues=queues,
        concurrency=concurrency,
        pool="prefork",
        # Node names must be unique on a broker: two workers of one pair may run on one machine.
        hostname=host_format(f"{name}.{os.getpid()}@%h"),
        loglevel=loglevel,
        without_gossip=True,
        without_mingle=True,
        optimization="fair",
    )
    log.info("worker %s: consuming %s", name, ", ".join(queues))
    worker.start()
    return int(worker.exitcode or 0)
