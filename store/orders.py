"""Monitoring orders and their extensions, and leaves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, LiteralString

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import Leave, LeaveState, MonitoringOrder, OrderError, check_period
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


async def _one(conn: AsyncConnection[Any], query: LiteralString, params: tuple[object, ...]) -> Any:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    return None if row is None else row[0]


# Orders -----------------------------------------------------------------------------------

# An order's end, extensions included (SQL over `monitoring_orders o`).
EFFECTIVE_END = (
    "COALESCE((SELECT max(e.ends_at) FROM order_extensions e WHERE e.order_id = o.id), o.ends_at)"
)


async def create_order(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    approved_by: str,
    reason: str,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
) -> int:
    """A new order; OrderError if the period is not allowed (the table checks it too)."""
    check_period(starts_at, ends_at)
    return int(
        await _one(
            conn,
            "INSERT INTO monitoring_orders"
            " (subject_id, approved_by, reason, starts_at, ends_at, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (subject_id, approved_by, reason, starts_at, ends_at, actor),
        )
    )


async def extend_order(
    conn: AsyncConnection[Any],
    *,
    order_id: int,
    approved_by: str,
    reason: str,
    ends_at: datetime,
    actor: str,
) -> int:
    """Extend an order from its current end by at most 3 months after review."""
    current = await _one(
        conn,
        f"SELECT {EFFECTIVE_END} FROM monitoring_orders o WHERE o.id = %s FOR UPDATE",
        (order_id,),
    )
    if current is None:
        raise OrderError(f"no order {order_id}")
    check_period(current, ends_at)
    return int(
        await _one(
            conn,
            "INSERT INTO order_extensions"
            " (order_id, approved_by, reason, previous_end, ends_at, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (order_id, approved_by, reason, current, ends_at, actor),
        )
    )


async def load_orders(conn: AsyncConnection[Any]) -> list[MonitoringOrder]:
    cur = await conn.execute(
        f"SELECT o.id, o.subject_id, o.starts_at, {EFFECTIVE_END} FROM monitoring_orders o"
    )
    return [
        MonitoringOrder(id=i, subject_id=s, starts=a.timestamp(), ends=b.timestamp())
        for i, s, a, b in await cur.fetchall()
    ]


async def load_reminded(conn: AsyncConnection[Any]) -> set[tuple[int, float]]:
    """(order, end) pairs already reminded of."""
    cur = await conn.execute("SELECT order_id, ends_at FROM order_reminders")
    return {(int(o), e.timestamp()) for o, e in await cur.fetchall()}


async def mark_reminded(conn: AsyncConnection[Any], *, order_id: int, ends: float) -> bool:
    """Note that the order's end at `ends` was reminded of; False if it already was."""
    cur = await conn.execute(
        "INSERT INTO order_reminders (order_id, ends_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (order_id, datetime.fromtimestamp(ends, UTC)),
    )
    return cur.rowcount == 1


# Leaves -----------------------------------------------------------------------------------


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
        await _one(
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


# Reading them back ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    id: int
    approved_by: str
    reason: str
    previous_end: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: int
    subject_id: int
    approved_by: str
    reason: str
    starts_at: datetime
    first_end: datetime  # as approved, before any extension
    ends_at: datetime  # after every extension
    created_by: str
    created_at: datetime
    extensions: list[ExtensionRow]


async def list_orders(
    conn: AsyncConnection[Any], *, subject_id: int, order_id: int | None = None
) -> list[OrderRow]:
    """The subject's orders with their extensions, oldest first."""
    cur = await conn.execute(
        "SELECT e.order_id, e.id, e.approved_by, e.reason, e.previous_end, e.ends_at,"
        " e.created_by, e.created_at FROM order_extensions e"
        " JOIN monitoring_orders o ON o.id = e.order_id"
        " WHERE o.subject_id = %s ORDER BY e.ends_at",
        (subject_id,),
    )
    extensions: dict[int, list[ExtensionRow]] = {}
    for order, *extension in await cur.fetchall():
        extensions.setdefault(int(order), []).append(ExtensionRow(*extension))
    rows = await conn.execute(
        f"SELECT o.id, o.subject_id, o.approved_by, o.reason, o.starts_at, o.ends_at,"
        f" {EFFECTIVE_END}, o.created_by, o.created_at FROM monitoring_orders o"
        " WHERE o.subject_id = %s AND (%s::bigint IS NULL OR o.id = %s) ORDER BY o.starts_at",
        (subject_id, order_id, order_id),
    )
    return [
        OrderRow(i, s, by, why, start, first, end, creator, at, extensions.get(i, []))
        for i, s, by, why, start, first, end, creator, at in await rows.fetchall()
    ]


async def order_subject(conn: AsyncConnection[Any], *, order_id: int) -> int | None:
    subject = await _one(
        conn, "SELECT subject_id FROM monitoring_orders WHERE id = %s", (order_id,)
    )
    return None if subject is None else int(subject)


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
