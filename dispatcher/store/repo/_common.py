"""Helpers shared by the repositories: dialect-specific INSERT, clocks, row conversion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


@lru_cache(maxsize=4096)
def db_stamp(at: datetime, *, sqlite: bool) -> str:
    """A time as a JSON-carried parameter: SQLite keeps naive UTC in SQLAlchemy's
    fixed-width text (so comparisons and ORDER BY hold), PostgreSQL parses ISO 8601.
    Cached: a burst's acks carry the same few terminal-clock seconds."""
    at = at.astimezone(UTC)
    if sqlite:
        return at.replace(tzinfo=None).isoformat(" ", "microseconds")
    return at.isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


def text_value(value: str) -> str:
    """The plain string: `str(SomeStrEnum.X)` would give "SomeStrEnum.X" on Python 3.11."""
    return str(value.value) if isinstance(value, Enum) else value


def checked(value: str, allowed: frozenset[str], what: str) -> str:
    plain = text_value(value)
    if plain not in allowed:
        raise ValueError(f"unknown {what} {plain!r}; expected one of {sorted(allowed)}")
    return plain


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that knows ON CONFLICT, in the session's dialect."""
    name = dialect_name(session)
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise RuntimeError(f"the store supports SQLite and PostgreSQL, not {name}")


def strings(values: Iterable[object]) -> list[str]:
    """JSON-ready strings; domain values (`RegionCode`, str enums) become their text."""
    return [v.value if isinstance(v, Enum) else str(v) for v in values]


def as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def as_dict(value: Any) -> Mapping[str, Any]:
    return dict(value or {})


def mapping(row: Row[Any]) -> RowMapping:
    return row._mapping
