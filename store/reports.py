"""The daily report (日报告) of an office (and the offices below it) for one day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from store.orders import EFFECTIVE_END

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class AlertCount:
    kind: str
    state: str
    count: int


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: int  # 0-23, local time of the report's day
    kind: str
    count: int


@dataclass(frozen=True, slots=True)
class SilentSubject:
    subject_id: int
    name: str
    level: str
    last_report: datetime | None  # None: never heard from
    limit_s: float


@dataclass(frozen=True, slots=True)
class OldAlert:
    id: int
    kind: str
    severity: str
    state: str
    subject_id: int
    subject_name: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class DailyReport:
    subjects_monitored: int
    devices_bound: int
    devices_reporting: int
    alerts: list[AlertCount] = field(default_factory=list)
    alerts_by_hour: list[HourCount] = field(default_factory=list)
    silent: list[SilentSubject] = field(default_factory=list)
    open_over_a_day: list[OldAlert] = field(default_factory=list)


async def daily_report(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int],
    start: datetime,
    end: datetime,
    at: datetime,
    limits: Mapping[str, float],
) -> DailyReport:
    """For the subjects of `offices` under an order during [start, end): how many, their
    devices and how many reported, the alerts opened by kind and state (and per local hour
    of the day, in `start`'s time zone); as of `at` (the
    day's end, or now for today): the subjects silent beyond `limits` (seconds per level)
    and the alerts still open (or acknowledged) after more than a day."""
    params = {"offices": list(offices), "start": start, "end": end, "at": at}
    monitored = (
        "SELECT s.id, s.name, s.level FROM subjects s"
        " WHERE s.office_id = ANY(%(offices)s)"
        " AND EXISTS (SELECT 1 FROM monitoring_orders o WHERE o.subject_id = s.id"
        f"  AND o.starts_at < %(end)s AND {EFFECTIVE_END} > %(start)s)"
    )
    cur = await conn.execute(
        f"WITH m AS ({monitored})"
        " SELECT (SELECT count(*) FROM m),"
        " (SELECT count(*) FROM devices d JOIN m ON m.id = d.subject_id WHERE d.active),"
        " (SELECT count(*) FROM devices d JOIN m ON m.id = d.subject_id WHERE d.active"
        "  AND (EXISTS (SELECT 1 FROM fixes f WHERE f.subject_id = d.subject_id"
        "    AND f.device_id = d.id AND f.time >= %(start)s AND f.time < %(end)s)"
        "  OR EXISTS (SELECT 1 FROM device_events e WHERE e.device_id = d.id"
        "    AND e.time >= %(start)s AND e.time < %(end)s)))",
        params,
    )
    row = await cur.fetchone()
    assert row is not None, "an aggregate returns one row"
    counts = conn.cursor(row_factory=class_row(AlertCount))
    await counts.execute(
        "SELECT a.kind, a.state, count(*)::int AS count FROM alerts a"
        " JOIN subjects s ON s.id = a.subject_id WHERE s.office_id = ANY(%(offices)s)"
        " AND a.opened_at >= %(start)s AND a.opened_at < %(end)s"
        " GROUP BY a.kind, a.state ORDER BY a.kind, a.state",
        params,
    )
    hours = conn.cursor(row_factory=class_row(HourCount))
    await hours.execute(
        "SELECT extract(hour FROM a.opened_at AT TIME ZONE %(tz)s)::int AS hour, a.kind,"
        " count(*)::int AS count FROM alerts a"
        " JOIN subjects s ON s.id = a.subject_id WHERE s.office_id = ANY(%(offices)s)"
        " AND a.opened_at >= %(start)s AND a.opened_at < %(end)s"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        {**params, "tz": str(start.tzinfo)},
    )
    last = await conn.execute(
        f"WITH m AS ({monitored})"
        " SELECT m.id, m.name, m.level, GREATEST("
        "  (SELECT max(f.time) FROM fixes f WHERE f.subject_id = m.id AND f.time < %(at)s),"
        "  (SELECT max(e.time) FROM device_events e WHERE e.subject_id = m.id"
        "   AND e.time < %(at)s)) FROM m ORDER BY m.id",
        params,
    )
    silent = []
    for subject_id, name, level, heard in await last.fetchall():
        limit = limits[level]
        if heard is None or (at - heard).total_seconds() > limit:
            silent.append(SilentSubject(int(subject_id), name, level, heard, limit))
    old = conn.cursor(row_factory=class_row(OldAlert))
    await old.execute(
        "SELECT a.id, a.kind, a.severity, a.state, a.subject_id, s.name AS subject_name,"
        " a.opened_at FROM alerts a JOIN subjects s ON s.id = a.subject_id"
        " WHERE s.office_id = ANY(%(offices)s) AND a.state IN ('open', 'acknowledged')"
        " AND a.opened_at < %(at)s - interval '1 day' ORDER BY a.opened_at",
        params,
    )
    return DailyReport(
        subjects_monitored=int(row[0]),
        devices_bound=int(row[1]),
        devices_reporting=int(row[2]),
        alerts=await counts.fetchall(),
        alerts_by_hour=await hours.fetchall(),
        silent=silent,
        open_over_a_day=await old.fetchall(),
    )
