"""Alerts and their events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import AlertState, NewAlert


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    severity: str
    state: str
    subject_id: int
    subject_name: str
    zone_name: str | None
    fix_time: datetime
    lon: float
    lat: float
    message: str
    opened_at: datetime
    updated_at: datetime


async def open_alerts(
    conn: AsyncConnection[Any], alerts: list[NewAlert], *, actor: str
) -> list[int]:
    """Insert new alerts with their 'opened' event; one already live for the same
    assignment and kind is not duplicated. Returns the ids actually opened."""
    opened: list[int] = []
    for a in alerts:
        cur = await conn.execute(
            "INSERT INTO alerts (kind, severity, subject_id, assignment_id, fix_time, lon, lat,"
            " message) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (assignment_id, kind) WHERE state IN ('open', 'acknowledged')"
            " DO NOTHING RETURNING id",
            (
                a.kind.value,
                a.severity.value,
                a.subject_id,
                a.assignment_id,
                datetime.fromtimestamp(a.fix_time, UTC),
                a.lon,
                a.lat,
                a.message,
            ),
        )
        row = await cur.fetchone()
        if row is None:
            continue
        await conn.execute(
            "INSERT INTO alert_events (alert_id, action, actor, note)"
            " VALUES (%s, 'opened', %s, %s)",
            (row[0], actor, a.message),
        )
        opened.append(int(row[0]))
    return opened


async def live_alert_assignments(conn: AsyncConnection[Any]) -> set[int]:
    """Assignments with an open or acknowledged alert: the rules must not open another."""
    cur = await conn.execute(
        "SELECT DISTINCT assignment_id FROM alerts"
        " WHERE state IN ('open', 'acknowledged') AND assignment_id IS NOT NULL"
    )
    return {int(r[0]) for r in await cur.fetchall()}


async def list_alerts(
    conn: AsyncConnection[Any], *, states: list[AlertState], subject_id: int | None, limit: int
) -> list[AlertRow]:
    """Alerts in the given states, critical first, then newest."""
    cur = conn.cursor(row_factory=class_row(AlertRow))
    await cur.execute(
        "SELECT a.id, a.kind, a.severity, a.state, a.subject_id, s.name AS subject_name,"
        " z.name AS zone_name, a.fix_time, a.lon, a.lat, a.message, a.opened_at, a.updated_at"
        " FROM alerts a JOIN subjects s ON s.id = a.subject_id"
        " LEFT JOIN zone_assignments za ON za.id = a.assignment_id"
        " LEFT JOIN zones z ON z.id = za.zone_id"
        " WHERE a.state = ANY(%s) AND (%s::bigint IS NULL OR a.subject_id = %s)"
        " ORDER BY a.severity = 'critical' DESC, a.opened_at DESC, a.id DESC LIMIT %s",
        ([s.value for s in states], subject_id, subject_id, limit),
    )
    return await cur.fetchall()
