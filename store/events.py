"""Device device events: stored once each, read back per subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import EventReport


@dataclass(frozen=True, slots=True)
class EventRow:
    time: datetime
    device_code: str
    event: str
    battery: int | None
    seq: int | None
    received_at: datetime


async def insert_events(conn: AsyncConnection[Any], events: list[EventReport]) -> list[EventReport]:
    """Store events; one already stored (same device, time, event, seq) is skipped.
    Returns the events that were new."""
    if not events:
        return []
    cur = await conn.execute(
        "INSERT INTO device_events"
        " (time, device_id, subject_id, event, battery, seq, received_at)"
        " SELECT * FROM unnest(%s::timestamptz[], %s::bigint[], %s::bigint[], %s::text[],"
        " %s::smallint[], %s::bigint[], %s::timestamptz[])"
        " ON CONFLICT DO NOTHING RETURNING device_id, time, event, seq",
        (
            [datetime.fromtimestamp(e.time, UTC) for e in events],
            [e.device_id for e in events],
            [e.subject_id for e in events],
            [e.event.value for e in events],
            [e.battery for e in events],
            [e.seq for e in events],
            [datetime.fromtimestamp(e.received, UTC) for e in events],
        ),
    )
    new = {tuple(row) for row in await cur.fetchall()}
    out = []
    for e in events:  # the first of duplicates within `events` is the new one
        key = (e.device_id, datetime.fromtimestamp(e.time, UTC), e.event.value, e.seq)
        if key in new:
            new.remove(key)
            out.append(e)
    return out


async def subject_events(
    conn: AsyncConnection[Any], *, subject_id: int, limit: int
) -> list[EventRow]:
    """A subject's newest device events, newest first."""
    cur = conn.cursor(row_factory=class_row(EventRow))
    await cur.execute(
        "SELECT e.time, d.code AS device_code, e.event, e.battery, e.seq, e.received_at"
        " FROM device_events e JOIN devices d ON d.id = e.device_id"
        " WHERE e.subject_id = %s ORDER BY e.time DESC LIMIT %s",
        (subject_id, limit),
    )
    return await cur.fetchall()
