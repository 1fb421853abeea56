"""Where translation time goes: CPU time per stage of `translate_articles`, for the benchmark's breakdown.

Off unless a caller turns it on (`profiling()`, bench/translate_throughput.py); then each stage's CPU time is
summed per thread, exclusive of the stages inside it (splitting inside protecting counts as splitting). The
model's own time is what the process spent outside Python's threads: CTranslate2 works in native threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType

# In the order a sentence meets them. "protect": parsing the HTML, protected spans, names; "store": memory
# keys, look-ups and writes; "restore": placeholders back, fallbacks, the article put together again.
STAGES = ("split", "protect", "tokenize", "model", "detokenize", "restore", "store")


@dataclass
class StageProfile:
    """CPU seconds per stage, summed over the threads that ran it."""

    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    python_cpu: float = 0.0  # every thread that ran Python code inside translate_articles
    process_cpu: float = 0.0  # the whole process, model threads included
    wall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds

    @property
    def other(self) -> float:
        """Python outside the named stages: the loop that drives them, waiting, bookkeeping."""
        return max(0.0, self.python_cpu - sum(v for k, v in self.cpu.items() if k != "model"))


_active: StageProfile | None = None
_local = threading.local()


class stage:  # a context manager used like a function
    """`with stage("split"): ...` counts the block's CPU time to that stage when profiling is on."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        if _active is None:
            return
        now = time.thread_time()
        stack = _local.__dict__.setdefault("stack", [])
        if stack:  # pause the enclosing stage
            outer, started = stack[-1]
            _active.add(outer, now - started)
        stack.append((self.name, now))

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        profile = _active
        stack = _local.__dict__.get("stack")
        if profile is None or not stack:
            return
        now = time.thread_time()
        name, started = stack.pop()
        profile.add(name, now - started)
        if stack:
            stack[-1] = (stack[-1][0], now)


@contextmanager
def profiling() -> Iterator[StageProfile]:
    """Profile what runs inside (one caller at a time); the model's share is filled in at the end."""
    global _active
    profile = StageProfile()
    _local.__dict__["stack"] = []
    wall, process, python = time.perf_counter(), time.process_time(), time.thread_time()
    _active = profile
    try:
        yield profile
    finally:
        _active = None
        profile.wall = time.perf_counter() - wall
        profile.process_cpu = time.process_time() - process
        profile.python_cpu = time.thread_time() - python
        profile.cpu["model"] = max(0.0, profile.process_cpu - profile.python_cpu)
