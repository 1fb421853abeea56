"""Translation on many machines through Celery (run.runner = "celery"; docs/scale-out.md).

- app.py     the Celery application: broker, queues (one per language pair, `translate.en-fr`, and `publish`),
             delivery guarantees (acks late, rejected when the worker is lost, prefetch 1)
- tasks.py   the two tasks and the worker process's context: `syndicator.translate` (one unit: a language
             pair and article ids, under a claim named by the task id) and `syndicator.publish` (one
             language, debounced through a request recorded in the store)
- runner.py  the runner `syndicator run` uses: units become tasks, results come back as they finish
- worker.py  `syndicator worker --pairs en-fr,en-ar [--publish]`: consumes only those queues, models loaded

Importing this package registers the runner; only the command line does, and only when the instance is
configured for it, so the embedded path never imports Celery.
"""

from __future__ import annotations

from syndicator.distributed import runner as _runner  # noqa: F401  registers "celery" in syndicator.runner
