"""Exceptions that carry a message an admin can act on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class SyndicatorError(Exception):
    """Base: a problem we can explain to the user."""

    hint: str = ""

    def __init__(self, message: str = "", *, hint: str = "") -> None:
        # Only the message goes to Exception.args so the default pickling (cls(*args) + __dict__) works.
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConfigError(SyndicatorError):
    """A bad configuration: names the file, the key path ("source[1].path") and the line when known.

    When several problems were found in one pass, `problems` holds one ConfigError per problem and
    str() lists them one per line; otherwise `problems` is just (self,).
    """

    def __init__(
        self,
        message: str = "",
        *,
        file: Path | None = None,
        key: str = "",
        line: int | None = None,
        hint: str = "",
        problems: Sequence[ConfigError] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.key = key
        self.line = line
        self._problems = tuple(problems)

    @property
    def problems(self) -> tuple[ConfigError, ...]:
        """Every problem this error stands for (itself when it is a single one)."""
        return self._problems or (self,)

    @classmethod
    def collect(cls, problems: Sequence[ConfigError], file: Path | None = None) -> ConfigError:
        """One error for all problems: the problem itself when there is only one."""
        if len(problems) == 1:
            return problems[0]
        return cls(f"{len(problems)} problems", file=file, problems=problems)

    def location(self) -> str:
        """'config/syndicator.toml:12' style prefix, or '' when the problem has no file."""
        if self.file is None:
            return ""
        return f"{_display(self.file)}:{self.line}" if self.line else _display(self.file)

    def __str__(self) -> str:
        if self._problems:
            where = f" with {_display(self.file)}" if self.file else ""
            header = f"{len(self._problems)} problems{where}:"
            return "\n".join([header, *(f"  {p}" for p in self._problems)])
        parts = [p for p in (self.location(), self.key, super().__str__()) if p]
        return ": ".join(parts)


def _display(path: Path) -> str:
    """The path relative to the working directory when it is under it: shorter and what admins typed."""
    try:
        return str(path.relative_to(Path.cwd()))
    except (ValueError, OSError):  # not under the cwd, or the cwd was deleted
        return str(path)


class SourceError(SyndicatorError):
    """A source could not be read at all (a bad single article is a Problem, not an error)."""


class BadItem(SyndicatorError, ValueError):
    """One item of a source (a file, a feed entry, a page) cannot be used; the message says why.

    Reported as a Problem naming the item; the source goes on with the next one.
    """


class TranslationError(SyndicatorError):
    """A translation engine failed."""


class ModelMissing(TranslationError):
    """No installed model/package translates this language pair."""


class PublishError(SyndicatorError):
    """Feeds could not be written."""


class StoreError(SyndicatorError):
    """The article store could not be opened or written."""


class InstanceBusy(SyndicatorError):
    """Another process holds the instance: only one may write its store and feeds at a time."""


class VerifyError(SyndicatorError):
    """`syndicator verify` found the published tree or the store wrong (and did not, or could not, repair)."""
