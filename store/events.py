"""Device status events: stored once each, read back per subject."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from domain import DeviceEvent

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class NewEvent:
    device_id: int
    subject_id: int
    time: float
    event: DeviceEvent
    battery: int | None
    seq: int | None
    received: float


@dataclass(frozen=True, slots=True)
class EventRow:
    time: datetime
    device_code: str
    event: str
    battery: int | None
    seq: int | None
    received_at: datetime


async def insert_events(conn: AsyncConnection[Any], events: list[NewEvent]) -> int:
    """Store events; one already stored (same device, time, event, seq) is skipped.
    Returns how many were new."""
    if not events:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO device_events"
            " (time, device_id, subject_id, event, battery, seq, received_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (
                    datetime.fromtimestamp(e.time, UTC),
                    e.device_id,
                    e.subject_id,
                    e.event.value,
                    e.battery,
                    e.seq,
                    datetime.fromtimestamp(e.received, UTC),
                )
                for e in events
            ],
        )
        return cur.rowcount


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
