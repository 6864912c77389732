"""Multi-row INSERT .. ON CONFLICT DO NOTHING .. RETURNING without per-row ORM/Core overhead.

SQLAlchemy's insertmanyvalues path spends most of a 1,000-row batch in Python (the driver alone
is 3-4 times faster), and the dispatch log and acks are the write-hot tables. SQLite gets one
multi-row VALUES statement on the raw driver connection, inside the session's transaction;
PostgreSQL gets one INSERT .. SELECT FROM unnest(arrays), whatever the row count. Values still
go through each column type's own bind processor, so what is stored is exactly what the Core
path would store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

# Below SQLite's default limit of 32,766 bound parameters per statement.
_SQLITE_MAX_PARAMS = 32_000


async def insert_ignoring_conflicts(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert `rows` (all with the same keys); return `returning` columns of the new ones."""
    if not rows:
        return []
    columns = list(rows[0])
    conn = await session.connection()
    dialect = conn.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    quoted = [dialect.identifier_preparer.quote(name) for name in columns]
    head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(quoted)})"
    tail = (
        f" ON CONFLICT ({', '.join(dialect.identifier_preparer.quote(c) for c in conflict)})"
        f" DO NOTHING RETURNING {', '.join(dialect.identifier_preparer.quote(c) for c in returning)}"
    )
    if dialect.name == "postgresql":
        return await _postgresql(session, table, rows, columns, processors, head, tail)
    return await _sqlite(conn, rows, columns, processors, head, tail)


def _values(row: Mapping[str, Any], columns: list[str], processors: list[Any]) -> list[Any]:
    return [
        row[name] if proc is None else proc(row[name])
        for name, proc in zip(columns, processors, strict=True)
    ]


async def _sqlite(
    conn: Any, rows: Sequence[Mapping[str, Any]], columns: list[str], processors: list[Any],
    head: str, tail: str,
) -> list[tuple[Any, ...]]:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # aiosqlite.Connection, in the transaction SQLAlchemy began
    per_row = "(" + ", ".join("?" * len(columns)) + ")"
    chunk = max(1, _SQLITE_MAX_PARAMS // len(columns))
    returned: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        params = [v for row in part for v in _values(row, columns, processors)]
        sql = f"{head} VALUES {', '.join([per_row] * len(part))}{tail}"
        async with driver.execute(sql, params) as cursor:
            returned.extend(tuple(r) for r in await cursor.fetchall())
    return returned


async def _postgresql(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], columns: list[str],
    processors: list[Any], head: str, tail: str,
) -> list[tuple[Any, ...]]:
    dialect = session.get_bind().dialect
    arrays: dict[str, list[Any]] = {name: [] for name in columns}
    for row in rows:
        for name, value in zip(columns, _values(row, columns, processors), strict=True):
            arrays[name].append(value)
    casts = [
        f"CAST(:p{i} AS {dialect.type_compiler_instance.process(table.c[name].type)}[])"
        for i, name in enumerate(columns)
    ]
    select = f" SELECT * FROM unnest({', '.join(casts)})"
    stmt = text(head + select + tail)
    params = {f"p{i}": arrays[name] for i, name in enumerate(columns)}
    result = await session.execute(stmt, params)
    return [tuple(r) for r in result.all()]
