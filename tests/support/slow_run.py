"""`syndicator` with a pseudo engine that takes SLOW_PSEUDO_DELAY seconds per batch: long work to interrupt."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from syndicator.cli import main
from syndicator.translate import pseudo
from tests.support.service import SLOW_BATCH_STARTED

DELAY = float(os.environ.get("SLOW_PSEUDO_DELAY", "0"))
_translate = pseudo.PseudoPair.translate_batch


def _slow(self: pseudo.PseudoPair, sentences: Sequence[str]) -> list[str]:
    print(SLOW_BATCH_STARTED, file=sys.stderr, flush=True)
    time.sleep(DELAY)
    return _translate(self, sentences)


pseudo.PseudoPair.translate_batch = _slow  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
