"""What every part of the store relies on: the engine, the clock and one-transaction writes."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from sqlalchemy.engine import Engine


class StoreBase(Protocol):
    """The plumbing `Store` provides to its parts (the mixins in this package)."""

    engine: Engine
    clock: Any

    def _tx(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction."""
        ...
