"""What the live feed follows: each device's newest position and every alert event, handed
out by transaction: a poll takes what committed below the oldest transaction still running
(the horizon), so nothing it has handed out is ever overtaken by an earlier transaction
that commits late, and the next poll goes on from there. Commits of what it follows are
announced (migration 0026), so a reader need not poll blindly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg

from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from psycopg import AsyncConnection


async def wake_on_commits(conninfo: str, wake: Callable[[], None]) -> None:
    """Call `wake` whenever a transaction that wrote positions or alert steps commits (and
    once on listening: what committed before is for the next read), on a connection of its
    own; returns only by raising (the server went away)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("LISTEN ccmon_live")
        wake()
        async for _ in conn.notifies():
            wake()


async def feed_horizon(conn: AsyncConnection[Any]) -> int:
    """The oldest transaction id still running (or the next one): every change of a lower
    transaction has committed or never will."""
    cur = await conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    row = await cur.fetchone()
    assert row is not None, "a scalar query returns a row"
    return int(row[0])


@dataclass(frozen=True, slots=True)
class PositionRow:
    """A device's newest fix."""

    subject_id: int
    office_id: int
    device_code: str
    device_kind: str
    time: datetime
    lon: float
    lat: float
    accuracy: float
    source: str
    battery: int | None
    received_at: datetime


async def positions(
    conn: AsyncConnection[Any],
    *,
    after: int | None,
    before: int | None,
    offices: Sequence[int] | None,
) -> list[PositionRow]:
    """Newest positions of the devices of these offices' subjects written by transactions in
    [after, before) (None: unbounded on that side), oldest fix first."""
    cur = await conn.execute(
        "SELECT p.subject_id, s.office_id, d.code, d.kind, p.time, p.lon, p.lat, p.accuracy,"
        " p.source, p.battery, p.received_at FROM device_positions p"
        " JOIN devices d ON d.id = p.device_id JOIN subjects s ON s.id = p.subject_id"
        " WHERE (%(after)s::text IS NULL OR p.xid >= %(after)s::text::xid8)"
        " AND (%(before)s::text IS NULL OR p.xid < %(before)s::text::xid8)"
        " AND " + in_offices("s.office_id") + " ORDER BY p.time",
        {
            "after": None if after is None else str(after),
            "before": None if before is None else str(before),
            "offices": offices,
        },
    )
    return [PositionRow(*row) for row in await cur.fetchall()]
