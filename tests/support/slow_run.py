"""`syndicator` whose engines (pseudo, and the real Argos and Apertium pairs) take SLOW_PSEUDO_DELAY seconds per
batch: long work to interrupt (a service, or a `syndicator worker` killed in the middle of a task). Argos
documents reach the model through ArgosQueue.submit, slowed by SLOW_ARGOS_QUEUE_DELAY when it is set.

SLOW_HOLD_FILE names a file: while it exists, whoever has just returned from the store method SLOW_HOLD_AFTER
(default `claim`: a worker's task, inside its unit) writes `<file>.inside` and waits. A test kills the holder
there and removes the file (a redelivered task then runs on): a kill that lands inside a stage every time,
whatever the speed of the model."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from syndicator.cli import main
from syndicator.store import Store
from syndicator.translate import apertium, argos, pseudo
from tests.support.service import SLOW_BATCH_STARTED

DELAY = float(os.environ.get("SLOW_PSEUDO_DELAY", "0"))


def _slowed(cls: Any) -> None:
    translate = cls.translate_batch

    def slow(self: Any, sentences: Sequence[str]) -> list[str]:
        print(SLOW_BATCH_STARTED, file=sys.stderr, flush=True)
        time.sleep(DELAY)
        return translate(self, sentences)  # type: ignore[no-any-return]

    cls.translate_batch = slow


for _cls in (pseudo.PseudoPair, argos.ArgosPair, apertium.ApertiumPair):
    _slowed(_cls)

# Opt-in (the crash test's aimed kills): Celery worker tests time their kills against the unslowed queue.
QUEUE_DELAY = float(os.environ.get("SLOW_ARGOS_QUEUE_DELAY", "0"))
_submit = argos.ArgosQueue.submit


def _slow_submit(self: Any, batch: Sequence[object]) -> Any:
    print(SLOW_BATCH_STARTED, file=sys.stderr, flush=True)
    time.sleep(QUEUE_DELAY)
    return _submit(self, batch)


if QUEUE_DELAY:
    argos.ArgosQueue.submit = _slow_submit  # type: ignore[method-assign]

HOLD = os.environ.get("SLOW_HOLD_FILE", "")
HOLD_AFTER = os.environ.get("SLOW_HOLD_AFTER", "claim")


def _holding(method: Any) -> Any:
    def held(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        hold = Path(HOLD)
        if result != [] and hold.exists():  # a claim that took nothing is no task under way
            Path(HOLD + ".inside").write_text(str(os.getpid()), encoding="utf-8")
            while hold.exists():
                time.sleep(0.05)
        return result

    return held


if HOLD:
    setattr(Store, HOLD_AFTER, _holding(getattr(Store, HOLD_AFTER)))

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
