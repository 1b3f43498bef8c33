"""Offices (司法所) and their tree: a user's scope is their office and every office below it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from store.rows import inserted_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


async def create_office(
    conn: AsyncConnection[Any], *, name: str, parent_id: int | None = None
) -> int:
    return await inserted_id(
        conn,
        "INSERT INTO offices (name, parent_id) VALUES (%s, %s) RETURNING id",
        (name, parent_id),
    )


@dataclass(frozen=True, slots=True)
class OfficeRow:
    id: int
    name: str
    parent_id: int | None


async def list_offices(
    conn: AsyncConnection[Any], *, offices: Sequence[int] | None
) -> list[OfficeRow]:
    cur = conn.cursor(row_factory=class_row(OfficeRow))
    await cur.execute(
        "SELECT id, name, parent_id FROM offices"
        " WHERE %(offices)s::bigint[] IS NULL OR id = ANY(%(offices)s) ORDER BY id",
        {"offices": offices},
    )
    return await cur.fetchall()


async def office_exists(conn: AsyncConnection[Any], *, office_id: int) -> bool:
    cur = await conn.execute("SELECT 1 FROM offices WHERE id = %s", (office_id,))
    return await cur.fetchone() is not None


async def rename_office(conn: AsyncConnection[Any], *, office_id: int, name: str) -> bool:
    cur = await conn.execute("UPDATE offices SET name = %s WHERE id = %s", (name, office_id))
    return cur.rowcount == 1


async def all_offices(conn: AsyncConnection[Any]) -> list[int]:
    cur = await conn.execute("SELECT id FROM offices ORDER BY id")
    return [int(r[0]) for r in await cur.fetchall()]


async def offices_under(conn: AsyncConnection[Any], *, office_id: int) -> list[int]:
    """The office and every office below it (a county bureau: its district offices)."""
    cur = await conn.execute(
        "WITH RECURSIVE under AS (SELECT id FROM offices WHERE id = %s"
        " UNION SELECT o.id FROM offices o JOIN under u ON o.parent_id = u.id)"
        " SELECT id FROM under ORDER BY id",
        (office_id,),
    )
    return [int(r[0]) for r in await cur.fetchall()]
