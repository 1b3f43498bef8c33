"""Retention: an order's fixes are deleted once the order (with its extensions) has been
over for the configured age (Art. 29: location data serves the correction work only), and
with them every other copy of a position of that period: the stays found from them, what the
faked-location rule remembers, and the alerts' coordinates (in the alert and in the bodies
of its deliveries). Alerts, their events and the audit trails are kept; each purge leaves
a row saying what went. Quarantine, raw device input that may hold anyone's position, is
deleted at the same age, as are protected persons' positions (from when they were
taken)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


# Rows of a subject in [start, end], unless also inside another period of the subject that
# has not been over for the age yet. {table} and its {time}: constants (fixes and
# device_positions by the time of the fix, stays by when they began).
_EXPIRED = (
    "DELETE FROM {table} x WHERE x.subject_id = %(subject)s"
    " AND x.{time} BETWEEN %(start)s AND %(end)s"
    " AND NOT EXISTS (SELECT 1 FROM order_periods o WHERE o.subject_id = %(subject)s"
    "  AND o.order_id <> %(order)s AND o.ends_at >= now() - make_interval(secs => %(age)s)"
    "  AND x.{time} BETWEEN o.starts_at AND o.ends_at)"
)


# What the faked-location rule remembers of the subject's devices, if the newest fix it
# took (the first of its numbers) was of the period or before.
_CHECKS = (
    "DELETE FROM device_checks x WHERE x.subject_id = %(subject)s"
    " AND to_timestamp(x.state[1]) <= %(end)s"
)


# The alerts of the period keep what happened, not where. Their deliveries' bodies first
# (they are found through the alerts' coordinates, cleared next).
_PERIOD_ALERTS = (
    "a.subject_id = %(subject)s AND a.lon IS NOT NULL"
    " AND a.fix_time BETWEEN %(start)s AND %(end)s"
    " AND NOT EXISTS (SELECT 1 FROM order_periods o WHERE o.subject_id = %(subject)s"
    "  AND o.order_id <> %(order)s AND o.ends_at >= now() - make_interval(secs => %(age)s)"
    "  AND a.fix_time BETWEEN o.starts_at AND o.ends_at)"
)
_OUTBOX_POSITIONS = (
    "UPDATE outbox x SET body = x.body #- '{alert,lon}' #- '{alert,lat}'"
    " FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
    " WHERE x.event_id = e.id AND " + _PERIOD_ALERTS
)
_ALERT_POSITIONS = "UPDATE alerts a SET lon = NULL, lat = NULL WHERE " + _PERIOD_ALERTS


@dataclass(frozen=True, slots=True)
class PurgeRow:
    id: int
    order_id: int
    subject_id: int
    period_start: datetime
    period_end: datetime
    purged_at: datetime
    fixes_deleted: int


async def purge_expired_fixes(
    conn: AsyncConnection[Any], *, age_s: float, orders: int = 10
) -> list[PurgeRow]:
    """Delete the fixes of up to `orders` periods over for more than `age_s` (one transaction
    each, oldest first); a fix also inside another order's period that is not over that long
    stays. Returns the purges made (call again until it returns none)."""
    cur = await conn.execute(
        "SELECT p.order_id, p.subject_id, p.starts_at, p.ends_at FROM order_periods p"
        " WHERE p.ends_at < now() - make_interval(secs => %s)"
        " AND NOT EXISTS (SELECT 1 FROM fix_purges f"
        "  WHERE f.order_id = p.order_id AND f.period_end = p.ends_at)"
        " ORDER BY p.ends_at LIMIT %s",
        (age_s, orders),
    )
    purges = []
    for order_id, subject_id, start, end in await cur.fetchall():
        async with conn.transaction():
            args = {
                "subject": subject_id,
                "order": order_id,
                "age": age_s,
                "start": start,
                "end": end,
            }
            deleted = await conn.execute(_EXPIRED.format(table="fixes", time="time"), args)
            await conn.execute(_EXPIRED.format(table="device_positions", time="time"), args)
            await conn.execute(_EXPIRED.format(table="stays", time="starts_at"), args)
            await conn.execute(_CHECKS, args)
            await conn.execute(_OUTBOX_POSITIONS, args)
            await conn.execute(_ALERT_POSITIONS, args)
            row = conn.cursor(row_factory=class_row(PurgeRow))
            await row.execute(
                "INSERT INTO fix_purges"
                " (order_id, subject_id, period_start, period_end, fixes_deleted)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
                " RETURNING id, order_id, subject_id, period_start, period_end, purged_at,"
                " fixes_deleted",
                (order_id, subject_id, start, end, deleted.rowcount),
            )
            purge = await row.fetchone()
            if purge is not None:
                purges.append(purge)
    return purges


async def purge_quarantine(conn: AsyncConnection[Any], *, age_s: float) -> int:
    """Delete what was quarantined more than `age_s` ago; how many rows went."""
    cur = await conn.execute(
        "DELETE FROM quarantine WHERE received_at < now() - make_interval(secs => %s)", (age_s,)
    )
    return cur.rowcount


async def purge_protected_positions(conn: AsyncConnection[Any], *, age_s: float) -> int:
    """Delete protected persons' fixes taken more than `age_s` ago (they are nobody's
    sentence: kept for the age from when they were taken, whatever the orders), and the
    proximity rule's remembered tracks of that age; how many fixes went."""
    cur = await conn.execute(
        "DELETE FROM protected_fixes WHERE time < now() - make_interval(secs => %s)", (age_s,)
    )
    await conn.execute(
        "DELETE FROM party_tracks WHERE track[1] < extract(epoch FROM now()) - %s", (age_s,)
    )
    return cur.rowcount


async def list_purges(
    conn: AsyncConnection[Any], *, offices: Sequence[int] | None, limit: int
) -> list[PurgeRow]:
    """Purges of these offices' subjects, newest first."""
    cur = conn.cursor(row_factory=class_row(PurgeRow))
    await cur.execute(
        "SELECT p.id, p.order_id, p.subject_id, p.period_start, p.period_end, p.purged_at,"
        " p.fixes_deleted FROM fix_purges p JOIN subjects s ON s.id = p.subject_id"
        " WHERE " + in_offices("s.office_id") + " ORDER BY p.id DESC LIMIT %(limit)s",
        {"offices": offices, "limit": limit},
    )
    return await cur.fetchall()
