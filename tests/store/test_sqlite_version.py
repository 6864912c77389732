"""An older SQLite library is refused at start, in words, instead of failing later on the
first claim (RETURNING) or in a migration (DROP COLUMN)."""

from __future__ import annotations

import sqlite3

import pytest

from dispatcher.store.db import SQLITE_MINIMUM, require_sqlite


def test_an_old_library_is_refused_with_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"needs SQLite 3\.35\.0 or later.*3\.34\.1.*PostgreSQL"):
        require_sqlite((3, 34, 1))


def test_the_minimum_and_this_machine_pass() -> None:
    require_sqlite(SQLITE_MINIMUM)
    require_sqlite(sqlite3.sqlite_version_info)
