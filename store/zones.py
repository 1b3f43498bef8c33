"""Zones: the shapes subjects must stay in or out of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import (
    Zone,
)
from store.rows import inserted_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


async def create_zone(
    conn: AsyncConnection[Any],
    *,
    name: str,
    geometry: dict[str, Any],
    office_id: int | None = None,
) -> int:
    """A zone of `office_id`, or shared by every office (None: a county's or district's
    boundary)."""
    return await inserted_id(
        conn,
        "INSERT INTO zones (name, geometry, office_id) VALUES (%s, %s, %s) RETURNING id",
        (name, Jsonb(geometry), office_id),
    )


async def load_zones(conn: AsyncConnection[Any]) -> list[Zone]:
    cur = await conn.execute("SELECT id, name, geometry FROM zones")
    return [Zone(id=i, name=n, geometry=g) for i, n, g in await cur.fetchall()]


@dataclass(frozen=True, slots=True)
class ZoneRow:
    id: int
    name: str
    office_id: int | None
    geometry: dict[str, Any]
    created_at: datetime


async def list_zones(
    conn: AsyncConnection[Any], *, offices: Sequence[int] | None, zone_id: int | None = None
) -> list[ZoneRow]:
    """Zones of these offices and the zones every office shares."""
    cur = conn.cursor(row_factory=class_row(ZoneRow))
    await cur.execute(
        "SELECT id, name, office_id, geometry, created_at FROM zones"
        " WHERE (office_id IS NULL OR %(offices)s::bigint[] IS NULL"
        " OR office_id = ANY(%(offices)s))"
        " AND (%(zone)s::bigint IS NULL OR id = %(zone)s) ORDER BY id",
        {"offices": offices, "zone": zone_id},
    )
    return await cur.fetchall()


async def update_zone(
    conn: AsyncConnection[Any], *, zone_id: int, name: str, geometry: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE zones SET name = %s, geometry = %s WHERE id = %s",
        (name, Jsonb(geometry), zone_id),
    )
