"""Source kinds behind a small registry: each turns one configured source into ArticleInputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from syndicator.config import SourceConfig
from syndicator.models import ArticleInput, Problem


@dataclass(frozen=True)
class SourceContext:
    """What a source needs to know about the instance."""

    timezone: ZoneInfo  # for dates written without an offset


class Source(Protocol):
    """A place articles come from."""

    name: str

    def poll(self) -> Iterator[ArticleInput | Problem]:
        """Every article the source holds now, and a Problem for each item it could not read."""
        ...


SourceFactory = Callable[[SourceConfig, SourceContext], Source]
SOURCE_KINDS: dict[str, SourceFactory] = {}


def register(kind: str) -> Callable[[SourceFactory], SourceFactory]:
    """Class decorator: make a source kind available to config files."""

    def deco(factory: SourceFactory) -> SourceFactory:
        SOURCE_KINDS[kind] = factory
        return factory

    return deco


def make_source(cfg: SourceConfig, ctx: SourceContext) -> Source:
    """The Source object for one configured source."""
    # Importing the kind modules registers them; done here so the registry is complete before first use.
    from syndicator.sources import folder  # noqa: F401

    return SOURCE_KINDS[cfg.kind](cfg, ctx)
