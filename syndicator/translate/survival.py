"""Whether a model carries placeholders through: per loaded pair, how the last runs with placeholders came out.

A run (a headline, a summary, an HTML block) whose protected spans went to the model as placeholders is
translated whole first; when the model loses a placeholder, the run is translated again node by node, with the
spans kept outside the model (document.py). A model that loses them nearly every time makes every such run cost
two translations for the output of the second alone. So each pair keeps the outcome of its last runs with
placeholders, and once nearly all of them were lost, such runs go node by node at once: the same output, half
the work (bench/translate_throughput.py, the news set). Every PROBE_EVERY-th of them is still tried whole, so
that a model that keeps them is noticed again. Kept per loaded pair object, in memory: a new model is a new
pair, and a restarted service learns again in one cycle.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque

log = logging.getLogger(__name__)

WINDOW = 100  # the last runs with placeholders that count
MIN_RUNS = 20  # fewer outcomes than this: no judgement, every run tried whole
DIRECT_BELOW = 0.1  # kept in fewer than this share of the window: go node by node at once
PROBE_EVERY = 8  # while going node by node, one run in this many is still tried whole


class PlaceholderRecord:
    """The outcomes of one pair's last runs with placeholders, and the decision they lead to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.outcomes: deque[bool] = deque(maxlen=WINDOW)
        self.direct = False
        self.skipped = 0  # runs sent node by node at once since the last probe
        self.lock = threading.Lock()

    def try_whole(self) -> bool:
        """Whether the next run with placeholders should go to the model whole (False: node by node)."""
        with self.lock:
            if not self.direct:
                return True
            self.skipped += 1
            if self.skipped >= PROBE_EVERY:
                self.skipped = 0
                return True
            return False

    def record(self, kept: bool) -> None:
        """The outcome of a run that went whole: were its placeholders all back?"""
        with self.lock:
            self.outcomes.append(kept)
            if len(self.outcomes) < MIN_RUNS:
                return
            kept_share = sum(self.outcomes) / len(self.outcomes)
            direct = kept_share < DIRECT_BELOW
            if direct != self.direct:
                self.direct = direct
                if direct:
                    log.info(
                        "%s: placeholders lost in %d of the last %d runs that had them; such runs are now "
                        "translated node by node at once (one in %d still tried whole)",
                        self.name, len(self.outcomes) - sum(self.outcomes), len(self.outcomes), PROBE_EVERY,
                    )  # fmt: skip
                else:
                    log.info(
                        "%s: placeholders kept in %d of the last %d runs that had them; such runs are "
                        "translated whole again",
                        self.name, sum(self.outcomes), len(self.outcomes),
                    )  # fmt: skip


# Held by a loaded pair object (a pivot's first pair: a pivot itself is made anew at each look-up), then by
# model id: gone with the pair when its engine drops it.
_records: weakref.WeakKeyDictionary[object, dict[str, PlaceholderRecord]] = weakref.WeakKeyDictionary()
_records_lock = threading.Lock()


def record_for(pair: object, model_id: str, name: str) -> PlaceholderRecord:
    """The record of this loaded pair and model (created on first use)."""
    anchor = getattr(pair, "first", pair)
    with _records_lock:
        records = _records.setdefault(anchor, {})
        record = records.get(model_id)
        if record is None:
            record = records[model_id] = PlaceholderRecord(name)
        return record


def forget(pair: object) -> None:
    """Drop what was learned for this pair (what a restart does; the benchmark's first-cycle variant)."""
    with _records_lock:
        _records.pop(getattr(pair, "first", pair), None)
