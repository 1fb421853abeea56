"""One cycle, top to bottom: sources → store → translate → localize → publish.

Stages hand each other ids and language codes, never ORM objects, so any stage can later run elsewhere.
Each stage has its own module; this one only puts them in order and is the package's public face:

- context.py      what a cycle needs (store, writer, runner, catalogs, engines), rebuilt on a config reload
- collect.py      stage 1: the due sources polled side by side, changed articles queued, the queue repaired
- poll.py         one source into the store: its SourceContext ([http] options), change hash, back-off
- translation.py  stage 2: corrections, retries, every unit through the runner, the tallies
- units.py        pending work planned into units; one unit translated, gated and stored
- publishing.py   stage 3: each language's files, the root index, gzip copies, publish failures
"""

from __future__ import annotations

from syndicator.models import CycleReport
from syndicator.pipeline.collect import collect
from syndicator.pipeline.context import RELOAD_HOOKS, Context, execute_unit, open_context, rebuild_context
from syndicator.pipeline.poll import content_hash
from syndicator.pipeline.publishing import publish
from syndicator.pipeline.translation import translate

__all__ = [
    "RELOAD_HOOKS",
    "Context",
    "collect",
    "content_hash",
    "execute_unit",
    "open_context",
    "publish",
    "rebuild_context",
    "run_cycle",
    "translate",
]


def run_cycle(ctx: Context) -> CycleReport:
    """Poll every source, translate what is pending, publish."""
    report = CycleReport()
    collect(ctx, report)
    translate(ctx, report)
    publish(ctx, report)
    return report
