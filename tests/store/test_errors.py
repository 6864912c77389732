"""Which driver errors mean "try again later" (503) and which are bugs that must surface."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import exc as sa_exc

from dispatcher.store.errors import StoreUnavailable, is_unavailable, unavailable


def _sqlite_error(sql: str, setup: str = "") -> sqlite3.Error:
    conn = sqlite3.connect(":memory:")
    if setup:
        conn.execute(setup)
    try:
        conn.execute(sql)
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("no error")


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(orig: BaseException) -> sa_exc.DBAPIError:
    return sa_exc.OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "refused"),
    TimeoutError(),
    sa_exc.TimeoutError("pool exhausted"),
    _wrapped(_PgError("08006")),  # connection failure
    _wrapped(_PgError("57P01")),  # admin shutdown
    _wrapped(_PgError("53300")),  # too many connections
    _wrapped(_PgError("40001")),  # serialization failure
])
def test_unavailable(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize("error", [
    _wrapped(_sqlite_error("SELECT * FROM missing")),
    _wrapped(_sqlite_error("INSERT INTO t VALUES (1)", "CREATE TABLE t (x CHECK (x > 1))")),
    _wrapped(_PgError("42P01")),  # undefined table
    _wrapped(_PgError("23505")),  # unique violation
    ValueError("naive datetime"),
    StoreUnavailable("already translated"),
])
def test_bugs_and_bad_data_are_not_unavailability(error: BaseException) -> None:
    assert not is_unavailable(error)


def test_the_message_names_the_driver_error_not_the_sql() -> None:
    wrapped = sa_exc.OperationalError("SELECT secret FROM t", {"p": "body"},
                                      sqlite3.OperationalError("database is locked"))
    message = str(unavailable(wrapped))
    assert "database is locked" in message and "secret" not in message
