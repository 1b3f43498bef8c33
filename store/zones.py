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
    from collections.abc import Mapping, Sequence

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


async def load_zones(
    conn: AsyncConnection[Any], *, known: Mapping[int, tuple[int, Zone]]
) -> dict[int, tuple[int, Zone]]:
    """Every zone with its revision, by id; a zone whose revision is in `known` is not read
    again but taken from there, the same object (so that the geofence reuses what it compiled
    from it). The revision is the row's xmin, the transaction that last wrote it: it
    changes with every update, and one query reads revisions and changed zones at once."""
    ids = list(known)
    cur = await conn.execute(
        "SELECT z.id, z.xmin::text::bigint,"
        " CASE WHEN k.revision IS DISTINCT FROM z.xmin::text::bigint THEN z.name END,"
        " CASE WHEN k.revision IS DISTINCT FROM z.xmin::text::bigint THEN z.geometry END"
        " FROM zones z LEFT JOIN unnest(%(ids)s::bigint[], %(revisions)s::bigint[])"
        " AS k(id, revision) ON k.id = z.id",
        {"ids": ids, "revisions": [known[i][0] for i in ids]},
    )
    return {
        i: (revision, known[i][1] if name is None else Zone(id=i, name=name, geometry=geometry))
        for i, revision, name, geometry in await cur.fetchall()
    }


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
