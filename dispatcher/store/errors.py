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
# By name: asyncpg is optional at import time and these carry no SQLSTATE.
_LOST_CONNECTION = {"ConnectionDoesNotExistError", "ConnectionResetError", "ConnectionFailureError"}


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable or busy rather than the query wrong."""
    if isinstance(exc, StoreUnavailable):
        return False
    # Raw OSError / TimeoutError: a refused or timed-out connect, which drivers do not wrap.
    # sa_exc.TimeoutError: no pooled connection came free in time.
    if isinstance(exc, (OSError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(orig, OSError):  # wrapped by the adapter layer
        return True
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return sqlstate[:2] in _PG_UNAVAILABLE_CLASSES or sqlstate in _PG_UNAVAILABLE_CODES
    # asyncpg reports a dropped connection without an SQLSTATE.
    return orig is not None and _lost_connection(orig)


def _lost_connection(exc: BaseException) -> bool:
    for cause in (exc, exc.__cause__, exc.__context__):
        if cause is not None and type(cause).__name__ in _LOST_CONNECTION:
            return True
    return False


def unavailable(exc: BaseException) -> StoreUnavailable:
    """Wrap `exc` (the caller raises it `from exc`)."""
    # The driver's own message, not SQLAlchemy's: that one repeats the SQL and its parameters.
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    return StoreUnavailable(f"database unavailable: {type(cause).__name__}: {cause}")
