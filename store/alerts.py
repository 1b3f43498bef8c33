"""Alerts and their append-only events: findings become alerts, officers move them on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import (
    AlertAction,
    AlertCondition,
    AlertKind,
    AlertNotice,
    AlertState,
    Severity,
    Text,
)
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection

    from domain import Finding


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    severity: str
    state: str
    condition: str  # 'active', or 'cleared' when it ended by itself
    subject_id: int
    subject_name: str
    assignment_id: int | None
    zone_name: str | None
    device_code: str | None
    prohibition_id: int | None
    protected_person_id: int | None  # the pair's protected person (never where they are)
    fix_time: datetime  # the fix or event that opened it
    last_time: datetime  # the newest that repeated it
    count: int
    lon: float | None
    lat: float | None
    message: str  # English
    message_key: str | None  # the catalogue's key (domain.Text), to show it in another language
    message_params: dict[str, Any] | None
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    escalated_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertEventRow:
    id: int
    alert_id: int
    at: datetime
    action: str
    actor: str
    note: str | None


_SELECT = (
    "SELECT a.id, a.kind, a.severity, a.state, a.condition, a.subject_id,"
    " s.name AS subject_name, a.assignment_id, z.name AS zone_name, d.code AS device_code,"
    " a.prohibition_id, pr.protected_person_id, a.fix_time, a.last_time, a.count, a.lon,"
    " a.lat, a.message, a.message_key, a.message_params, a.opened_at, a.updated_at,"
    " a.acknowledged_at, a.acknowledged_by, a.closed_at, a.closed_by, a.escalated_at"
    " FROM alerts a JOIN subjects s ON s.id = a.subject_id"
    " LEFT JOIN zone_assignments za ON za.id = a.assignment_id"
    " LEFT JOIN zones z ON z.id = za.zone_id"
    " LEFT JOIN devices d ON d.id = a.device_id"
    " LEFT JOIN prohibitions pr ON pr.id = a.prohibition_id"
)
_LIVE_KEY = (
    "state IN ('open', 'acknowledged') AND subject_id = %s AND kind = %s"
    " AND COALESCE(assignment_id, 0) = COALESCE(%s, 0) AND COALESCE(device_id, 0) = COALESCE(%s, 0)"
    " AND COALESCE(prohibition_id, 0) = COALESCE(%s, 0)"
)


def _at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


async def record_event(
    conn: AsyncConnection[Any],
    *,
    alert_id: int,
    action: AlertAction,
    actor: str,
    note: str | None,
) -> AlertNotice:
    """Append an event to the alert's history; returns it with the alert as it stands."""
    cur = await conn.execute(
        "WITH e AS (INSERT INTO alert_events (alert_id, action, actor, note)"
        " VALUES (%s, %s, %s, %s) RETURNING id, alert_id, at, action, actor, note)"
        " SELECT e.id, e.action, e.actor, e.note, e.at, a.id, a.kind, a.severity, a.state,"
        " a.condition, a.count, a.subject_id, s.name, s.office_id, z.name, d.code,"
        " a.fix_time, a.last_time, a.lon, a.lat, a.message, a.opened_at"
        " FROM e JOIN alerts a ON a.id = e.alert_id JOIN subjects s ON s.id = a.subject_id"
        " LEFT JOIN zone_assignments za ON za.id = a.assignment_id"
        " LEFT JOIN zones z ON z.id = za.zone_id LEFT JOIN devices d ON d.id = a.device_id",
        (alert_id, action, actor, note),
    )
    row = await cur.fetchone()
    assert row is not None, "the statement returns the event it inserted"
    return AlertNotice(
        event_id=int(row[0]),
        action=AlertAction(row[1]),
        actor=row[2],
        note=row[3],
        at=row[4],
        alert_id=int(row[5]),
        kind=AlertKind(row[6]),
        severity=Severity(row[7]),
        state=AlertState(row[8]),
        condition=AlertCondition(row[9]),
        count=int(row[10]),
        subject_id=int(row[11]),
        subject_name=row[12],
        office_id=int(row[13]),
        zone_name=row[14],
        device_code=row[15],
        fix_time=row[16],
        last_time=row[17],
        lon=row[18],
        lat=row[19],
        message=row[20],
        opened_at=row[21],
    )


async def apply_finding(conn: AsyncConnection[Any], f: Finding) -> tuple[int, AlertAction] | None:
    """An arising condition opens an alert or repeats the live one (count, newest time); an
    ending one is recorded on the live alert, unless that alert has seen something newer.
    Returns (alert id, what happened), or None when nothing did."""
    return await (_clear(conn, f) if f.cleared else _raise(conn, f))


async def _raise(conn: AsyncConnection[Any], f: Finding) -> tuple[int, AlertAction]:
    """(alert id, opened or repeated)."""
    cur = await conn.execute(
        "INSERT INTO alerts (kind, severity, subject_id, assignment_id, device_id, order_id,"
        " prohibition_id, fix_time, last_time, lon, lat, message, message_key, message_params)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (subject_id, kind, COALESCE(assignment_id, 0), COALESCE(device_id, 0),"
        "  COALESCE(prohibition_id, 0))"
        " WHERE state IN ('open', 'acknowledged')"
        " DO UPDATE SET count = alerts.count + 1, condition = 'active', updated_at = now(),"
        " last_time = GREATEST(alerts.last_time, EXCLUDED.last_time)"
        " RETURNING id, xmax = 0",
        (
            f.kind.value,
            f.severity.value,
            f.subject_id,
            f.assignment_id,
            f.device_id,
            f.order_id,
            f.prohibition_id,
            _at(f.time),
            _at(f.time),
            f.lon,
            f.lat,
            str(f.message),
            *(
                (f.message.key, Jsonb(dict(f.message.params)))
                if isinstance(f.message, Text)
                else (None, None)
            ),
        ),
    )
    row = await cur.fetchone()
    assert row is not None, "INSERT ... ON CONFLICT DO UPDATE returns its row"
    return int(row[0]), AlertAction.OPENED if row[1] else AlertAction.REPEATED


async def _clear(conn: AsyncConnection[Any], f: Finding) -> tuple[int, AlertAction] | None:
    """(alert id, cleared), or None when no live alert takes it."""
    cur = await conn.execute(
        "UPDATE alerts SET condition = 'cleared', updated_at = now()"
        f" WHERE {_LIVE_KEY} AND condition = 'active' AND last_time <= %s RETURNING id",
        (f.subject_id, f.kind.value, f.assignment_id, f.device_id, f.prohibition_id, _at(f.time)),
    )
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), AlertAction.CLEARED)


async def get_alert(
    conn: AsyncConnection[Any],
    *,
    alert_id: int,
    lock: bool = False,
    offices: Sequence[int] | None = None,
) -> AlertRow | None:
    """One alert of a subject of these offices (None: any); `lock` holds it (FOR UPDATE)
    until the transaction ends."""
    cur = conn.cursor(row_factory=class_row(AlertRow))
    await cur.execute(
        _SELECT
        + " WHERE a.id = %(id)s AND "
        + in_offices("s.office_id")
        + (" FOR UPDATE OF a" if lock else ""),
        {"id": alert_id, "offices": offices},
    )
    return await cur.fetchone()


async def set_state(
    conn: AsyncConnection[Any], *, alert_id: int, state: AlertState, actor: str
) -> None:
    """Move an alert to `state`, stamping who and when (the caller checked the move)."""
    column = "acknowledged" if state.value == "acknowledged" else "closed"
    await conn.execute(
        f"UPDATE alerts SET state = %s, {column}_at = now(), {column}_by = %s,"
        " updated_at = now() WHERE id = %s",
        (state.value, actor, alert_id),
    )


async def mark_escalated(
    conn: AsyncConnection[Any], *, after_s: float
) -> list[tuple[int, AlertKind, Severity, int]]:
    """Critical alerts still open (not acknowledged) `after_s` seconds after opening, marked
    escalated once each: (alert id, kind, severity, subject id)."""
    cur = await conn.execute(
        "UPDATE alerts SET escalated_at = now(), updated_at = now()"
        " WHERE state = 'open' AND severity = 'critical' AND escalated_at IS NULL"
        " AND opened_at < now() - make_interval(secs => %s)"
        " RETURNING id, kind, severity, subject_id",
        (after_s,),
    )
    return [
        (int(alert_id), AlertKind(kind), Severity(severity), int(subject_id))
        for alert_id, kind, severity, subject_id in await cur.fetchall()
    ]


async def live_silences(conn: AsyncConnection[Any]) -> tuple[set[int], set[int], set[int]]:
    """(devices, subjects, devices switched off) with a live silence alert whose condition
    is still active (a device's silence is `power_off` when it said so first): the silence
    rule's state, rebuilt on start."""
    cur = await conn.execute(
        "SELECT kind, device_id, subject_id FROM alerts WHERE state IN ('open', 'acknowledged')"
        " AND condition = 'active'"
        " AND kind IN ('device_silent', 'power_off', 'subject_silent')"
    )
    devices, subjects, off = set(), set(), set()
    for kind, device, subject in await cur.fetchall():
        if kind == "subject_silent":
            subjects.add(int(subject))
            continue
        devices.add(int(device))
        if kind == "power_off":
            off.add(int(device))
    return devices, subjects, off


async def live_overdue(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, int]:
    """Subject -> leave destination assignment, for live overdue alerts whose subject is
    not back yet: the leave rule's state, rebuilt on start (of `subjects`; None: all)."""
    cur = await conn.execute(
        "SELECT subject_id, assignment_id FROM alerts WHERE state IN ('open', 'acknowledged')"
        " AND condition = 'active' AND kind = 'leave_overdue'"
        " AND (%s::bigint[] IS NULL OR subject_id = ANY(%s))",
        (subjects and list(subjects), subjects and list(subjects)),
    )
    return {int(s): int(a) for s, a in await cur.fetchall()}


async def list_alerts(
    conn: AsyncConnection[Any],
    *,
    states: list[AlertState],
    subject_id: int | None,
    kinds: list[AlertKind] | None = None,
    limit: int,
    offices: Sequence[int] | None = None,
) -> list[AlertRow]:
    """Alerts in the given states of subjects of these offices (None: every office),
    critical first, then newest."""
    cur = conn.cursor(row_factory=class_row(AlertRow))
    await cur.execute(
        _SELECT + " WHERE a.state = ANY(%(states)s)"
        " AND (%(subject)s::bigint IS NULL OR a.subject_id = %(subject)s)"
        " AND (%(kinds)s::text[] IS NULL OR a.kind = ANY(%(kinds)s))"
        " AND " + in_offices("s.office_id") + " ORDER BY a.severity = 'critical' DESC,"
        " a.opened_at DESC, a.id DESC LIMIT %(limit)s",
        {
            "states": [s.value for s in states],
            "subject": subject_id,
            "kinds": None if kinds is None else [k.value for k in kinds],
            "offices": offices,
            "limit": limit,
        },
    )
    return await cur.fetchall()


async def alert_events(conn: AsyncConnection[Any], *, alert_id: int) -> list[AlertEventRow]:
    """An alert's history, oldest first."""
    cur = conn.cursor(row_factory=class_row(AlertEventRow))
    await cur.execute(
        "SELECT id, alert_id, at, action, actor, note FROM alert_events"
        " WHERE alert_id = %s ORDER BY id",
        (alert_id,),
    )
    return await cur.fetchall()


async def live_alert_counts(conn: AsyncConnection[Any]) -> dict[tuple[str, str], int]:
    """(state, severity) -> how many alerts are open or acknowledged."""
    cur = await conn.execute(
        "SELECT state, severity, count(*) FROM alerts"
        " WHERE state IN ('open', 'acknowledged') GROUP BY state, severity"
    )
    return {(str(st), str(sev)): int(n) for st, sev, n in await cur.fetchall()}


async def alert_changes(
    conn: AsyncConnection[Any],
    *,
    after: int | None,
    before: int,
    offices: Sequence[int] | None,
    limit: int,
) -> list[tuple[AlertEventRow, AlertRow, int]]:
    """(event, the alert as it is now, its subject's office) for every alert event whose
    transaction is in [after, before) (transaction ids, see `store.feed_horizon`; `after`
    None: from the first), in commit-safe order."""
    cur = await conn.execute(
        "SELECT e.id, e.alert_id, e.at, e.action, e.actor, e.note, s.office_id,"
        + _SELECT.removeprefix("SELECT")
        + " JOIN alert_events e ON e.alert_id = a.id"
        " WHERE (%(after)s::text IS NULL OR e.xid >= %(after)s::text::xid8)"
        " AND e.xid < %(before)s::text::xid8"
        " AND " + in_offices("s.office_id") + ""
        " ORDER BY e.xid, e.id LIMIT %(limit)s",
        {
            "after": None if after is None else str(after),
            "before": str(before),
            "offices": offices,
            "limit": limit,
        },
    )
    return [
        (AlertEventRow(*row[:6]), AlertRow(*row[7:]), int(row[6])) for row in await cur.fetchall()
    ]
