"""Monitoring orders (Art. 29: at most 3 months a period) and their extensions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from domain import MonitoringOrder, OrderError, check_period
from store.rows import first_value

if TYPE_CHECKING:
    from psycopg import AsyncConnection


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
        await first_value(
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
    current = await first_value(
        conn,
        f"SELECT {EFFECTIVE_END} FROM monitoring_orders o WHERE o.id = %s FOR UPDATE",
        (order_id,),
    )
    if current is None:
        raise OrderError(f"no order {order_id}")
    check_period(current, ends_at)
    return int(
        await first_value(
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
    subject = await first_value(
        conn, "SELECT subject_id FROM monitoring_orders WHERE id = %s", (order_id,)
    )
    return None if subject is None else int(subject)
