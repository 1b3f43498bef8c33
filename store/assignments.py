"""Assignments: a zone applied to a subject, with the schedule of when it applies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import (
    ALWAYS,
    Assignment,
    OneOffWindow,
    Schedule,
    WeeklyWindow,
    ZoneRole,
)
from store.rows import inserted_id

if TYPE_CHECKING:
    from psycopg import AsyncConnection


def schedule_to_json(schedule: Schedule) -> dict[str, Any] | None:
    """The stored form of a schedule (see migration 0002); None for always."""
    if schedule.always:
        return None
    return {
        "timezone": schedule.timezone,
        "weekly": [
            {"days": list(w.days), "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"}
            for w in schedule.weekly
        ],
        "once": [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in schedule.once],
    }


def schedule_from_json(data: dict[str, Any] | None) -> Schedule:
    if data is None:
        return ALWAYS
    return Schedule(
        timezone=data.get("timezone", ALWAYS.timezone),
        weekly=tuple(
            WeeklyWindow(
                tuple(w["days"]), time.fromisoformat(w["start"]), time.fromisoformat(w["end"])
            )
            for w in data.get("weekly", [])
        ),
        once=tuple(
            OneOffWindow(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
            for w in data.get("once", [])
        ),
    )


async def assign_zone(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    zone_id: int,
    role: ZoneRole,
    schedule: Schedule = ALWAYS,
) -> int:
    data = schedule_to_json(schedule)
    return await inserted_id(
        conn,
        "INSERT INTO zone_assignments (subject_id, zone_id, role, schedule)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (subject_id, zone_id, role.value, None if data is None else Jsonb(data)),
    )


async def set_schedule(
    conn: AsyncConnection[Any], *, assignment_id: int, schedule: Schedule
) -> None:
    data = schedule_to_json(schedule)
    await conn.execute(
        "UPDATE zone_assignments SET schedule = %s WHERE id = %s",
        (None if data is None else Jsonb(data), assignment_id),
    )


async def load_assignments(conn: AsyncConnection[Any]) -> list[Assignment]:
    """Every current assignment; a subject's inclusion zones other than a leave's destination are
    suspended during the subject's approved leaves."""
    cur = await conn.execute(
        "SELECT id, subject_id, zone_id, role, schedule, leave_id FROM zone_assignments"
        " WHERE ended_at IS NULL"
    )
    rows = await cur.fetchall()
    cur = await conn.execute(
        "SELECT subject_id, starts_at, ends_at FROM leaves WHERE state = 'approved'"
    )
    away: dict[int, list[OneOffWindow]] = {}
    for subject, starts, ends in await cur.fetchall():
        away.setdefault(subject, []).append(OneOffWindow(starts, ends))
    out = []
    for i, s, z, r, sch, leave in rows:
        role = ZoneRole(r)
        schedule = schedule_from_json(sch)
        if role is ZoneRole.INCLUSION and leave is None and s in away:
            schedule = replace(schedule, suspended=tuple(away[s]))
        out.append(
            Assignment(id=i, subject_id=s, zone_id=z, role=role, schedule=schedule, leave_id=leave)
        )
    return out


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    id: int
    subject_id: int
    zone_id: int
    zone_name: str
    role: str
    schedule: dict[str, Any] | None  # None: always
    leave_id: int | None
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None


async def list_assignments(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    assignment_id: int | None = None,
    ended: bool = False,
) -> list[AssignmentRow]:
    """The subject's current assignments (with `ended`, the ended ones too), oldest first."""
    cur = conn.cursor(row_factory=class_row(AssignmentRow))
    await cur.execute(
        "SELECT a.id, a.subject_id, a.zone_id, z.name AS zone_name, a.role, a.schedule,"
        " a.leave_id, a.created_at, a.ended_at, a.ended_by"
        " FROM zone_assignments a JOIN zones z ON z.id = a.zone_id"
        " WHERE a.subject_id = %(subject)s AND (%(ended)s OR a.ended_at IS NULL)"
        " AND (%(id)s::bigint IS NULL OR a.id = %(id)s) ORDER BY a.id",
        {"subject": subject_id, "ended": ended, "id": assignment_id},
    )
    return await cur.fetchall()


async def end_assignment(conn: AsyncConnection[Any], *, assignment_id: int, actor: str) -> bool:
    """End a current assignment (kept: alerts refer to it); False if it had ended."""
    cur = await conn.execute(
        "UPDATE zone_assignments SET ended_at = now(), ended_by = %s"
        " WHERE id = %s AND ended_at IS NULL",
        (actor, assignment_id),
    )
    return cur.rowcount == 1
