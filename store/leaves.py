"""Leaves (请假, Art. 27): requests to leave the county, decided by a supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import Leave, LeaveState, OrderError
from store.rows import first_value
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


async def request_leave(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    destination_zone_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    actor: str,
) -> int:
    if ends_at <= starts_at:
        raise OrderError("a leave must end after it starts")
    return int(
        await first_value(
            conn,
            "INSERT INTO leaves (subject_id, destination, starts_at, ends_at, reason,"
            " requested_by) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (subject_id, destination_zone_id, starts_at, ends_at, reason, actor),
        )
    )


async def decide_leave(
    conn: AsyncConnection[Any], *, leave_id: int, approve: bool, actor: str
) -> None:
    """Approve or reject a requested leave. Approving makes its destination an inclusion
    assignment for exactly the leave's window (the district is suspended meanwhile)."""
    cur = await conn.execute(
        "UPDATE leaves SET state = %s, decided_by = %s, decided_at = now()"
        " WHERE id = %s AND state = 'requested'"
        " RETURNING subject_id, destination, starts_at, ends_at",
        ("approved" if approve else "rejected", actor, leave_id),
    )
    row = await cur.fetchone()
    if row is None:
        raise OrderError(f"leave {leave_id} is not waiting for a decision")
    if not approve:
        return
    subject_id, destination, starts_at, ends_at = row
    window = {"once": [{"start": starts_at.isoformat(), "end": ends_at.isoformat()}]}
    await conn.execute(
        "INSERT INTO zone_assignments (subject_id, zone_id, role, schedule, leave_id)"
        " VALUES (%s, %s, 'inclusion', %s, %s)",
        (subject_id, destination, Jsonb(window), leave_id),
    )


async def load_leaves(conn: AsyncConnection[Any]) -> list[Leave]:
    cur = await conn.execute(
        "SELECT id, subject_id, destination, starts_at, ends_at, state FROM leaves"
    )
    return [
        Leave(i, s, d, a.timestamp(), b.timestamp(), LeaveState(st))
        for i, s, d, a, b, st in await cur.fetchall()
    ]


@dataclass(frozen=True, slots=True)
class LeaveRow:
    id: int
    subject_id: int
    destination_zone_id: int
    destination: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    state: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


async def list_leaves(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    subject_id: int | None = None,
    leave_id: int | None = None,
    state: str | None = None,
    limit: int = 1000,
) -> list[LeaveRow]:
    """Leaves of these offices' subjects, newest request first."""
    cur = conn.cursor(row_factory=class_row(LeaveRow))
    await cur.execute(
        "SELECT l.id, l.subject_id, l.destination AS destination_zone_id,"
        " z.name AS destination, l.starts_at, l.ends_at, l.reason, l.state, l.requested_by,"
        " l.requested_at, l.decided_by, l.decided_at FROM leaves l"
        " JOIN subjects s ON s.id = l.subject_id JOIN zones z ON z.id = l.destination"
        " WHERE "
        + in_offices("s.office_id")
        + " AND (%(subject)s::bigint IS NULL OR l.subject_id = %(subject)s)"
        " AND (%(leave)s::bigint IS NULL OR l.id = %(leave)s)"
        " AND (%(state)s::text IS NULL OR l.state = %(state)s)"
        " ORDER BY l.requested_at DESC, l.id DESC LIMIT %(limit)s",
        {
            "offices": offices,
            "subject": subject_id,
            "leave": leave_id,
            "state": state,
            "limit": limit,
        },
    )
    return await cur.fetchall()
