"""Store errors, and the one place where driver exceptions become ours.

Services and the API only ever see `StoreUnavailable` (answer 503, retry later) or
`DuplicateAlert` (a concurrent intake won the race); everything else is a bug and propagates.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc


class StoreError(Exception):
    """Base of the store's own errors."""


class StoreUnavailable(StoreError, RuntimeError):
    """The database cannot be reached or is too busy right now; the caller may retry."""


class DuplicateAlert(StoreError):
    """An alert with this (sender, identifier) already exists."""

    def __init__(self, sender: str, identifier: str) -> None:
        super().__init__(f"alert {identifier!r} from {sender!r} already exists")
        self.sender = sender
        self.identifier = identifier


# SQLite primary result codes that mean "the file is busy or unusable", not "your SQL is wrong".
_SQLITE_UNAVAILABLE = {
    5,  # SQLITE_BUSY: busy_timeout expired
    6,  # SQLITE_LOCKED
    7,  # SQLITE_NOMEM
    8,  # SQLITE_READONLY
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
}

# PostgreSQL SQLSTATE classes and codes worth a retry: connection trouble, resources, shutdown,
# lock timeouts, and the serialisation failures a client is expected to retry.
_PG_UNAVAILABLE_CLASSES = {"08", "28", "3D", "53", "57", "58"}
_PG_UNAVAILABLE_CODES = {"40001", "40P01", "55P03"}


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable or busy rather than the query wrong."""
    if isinstance(exc, StoreUnavailable):
        return False
    if isinstance(exc, (OSError, sa_exc.TimeoutError, sa_exc.InterfaceError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return sqlstate[:2] in _PG_UNAVAILABLE_CLASSES or sqlstate in _PG_UNAVAILABLE_CODES
    return False


def unavailable(exc: BaseException) -> StoreUnavailable:
    """Wrap `exc` (the caller raises it `from exc`)."""
    # The driver's own message, not SQLAlchemy's: that one repeats the SQL and its parameters.
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    return StoreUnavailable(f"database unavailable: {type(cause).__name__}: {cause}")
