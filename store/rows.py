"""Statements that answer with one value: an inserted row's id, a count, a lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, LiteralString

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def first_value(
    conn: AsyncConnection[Any], query: LiteralString, params: tuple[object, ...]
) -> Any:
    """The first column of the first row, or None when there is no row."""
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    return None if row is None else row[0]


async def inserted_id(
    conn: AsyncConnection[Any], query: LiteralString, params: tuple[object, ...]
) -> int:
    """The id an `INSERT ... RETURNING id` gave its row."""
    value = await first_value(conn, query, params)
    assert value is not None, "INSERT ... RETURNING id returned no row"
    return int(value)
