"""The registry's version: moves whenever devices, zones or assignments change, so the
pipeline knows to compile them again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def registry_version(conn: AsyncConnection[Any]) -> int:
    """Moves whenever devices, zones or zone assignments change (migration 0003)."""
    cur = await conn.execute("SELECT version FROM registry_version")
    row = await cur.fetchone()
    assert row is not None, "registry_version has its one row from migration 0003"
    return int(row[0])
