"""Telling a write that failed because of one item's data from a store that cannot be written at all."""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from syndicator.errors import StoreError


def _database_error(exc: BaseException) -> BaseException:
    """The database's own error behind a StoreError (the store's writes wrap them, naming the store)."""
    if isinstance(exc, StoreError) and isinstance(exc.__cause__, SQLAlchemyError):
        return exc.__cause__
    return exc


def is_item_fault(exc: BaseException) -> bool:
    """True when storing one item failed because of that item (a date out of range, text the database
    refuses): the transaction rolled back and the next item may go on. False when the store itself is
    unusable (locked, full, gone), which must stop the whole poll so nothing is marked as read."""
    exc = _database_error(exc)
    if isinstance(exc, DataError | IntegrityError):
        return True
    if isinstance(exc, SQLAlchemyError):
        # A StatementError that is not the database's own wraps a Python error binding the item's values.
        return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)
    return not isinstance(exc, OSError | MemoryError | StoreError)


def refusal(exc: BaseException) -> str:
    """Why the database refused an item, without the SQL statement and its parameters (the whole article);
    "" when `exc` is not the database's."""
    exc = _database_error(exc)
    if not isinstance(exc, StatementError):
        return ""
    reason = " ".join(str(exc.orig).split("\n", 1)[0].split()) or type(exc.orig).__name__
    return f"the database refused it: {reason}"
