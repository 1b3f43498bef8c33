"""Offices, subjects, devices, zones and assignments: what the pipeline and the demo need."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, LiteralString

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import (
    ALWAYS,
    Assignment,
    Device,
    DeviceKind,
    OneOffWindow,
    Schedule,
    SupervisionLevel,
    WeeklyWindow,
    Zone,
    ZoneRole,
)
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


async def _inserted_id(
    conn: AsyncConnection[Any], query: LiteralString, params: tuple[object, ...]
) -> int:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None, "INSERT ... RETURNING id returned no row"
    return int(row[0])


async def create_office(
    conn: AsyncConnection[Any], *, name: str, parent_id: int | None = None
) -> int:
    return await _inserted_id(
        conn,
        "INSERT INTO offices (name, parent_id) VALUES (%s, %s) RETURNING id",
        (name, parent_id),
    )


async def create_subject(
    conn: AsyncConnection[Any], *, office_id: int, name: str, level: SupervisionLevel
) -> int:
    return await _inserted_id(
        conn,
        "INSERT INTO subjects (office_id, name, level) VALUES (%s, %s, %s) RETURNING id",
        (office_id, name, level.value),
    )


async def create_device(
    conn: AsyncConnection[Any],
    *,
    code: str,
    kind: DeviceKind,
    subject_id: int | None,
    owntracks_topic: str | None = None,
    owntracks_key: str | None = None,
    http_password_hash: str | None = None,
    office_id: int | None = None,
    actor: str,
) -> int:
    """Register a device, bound to `subject_id` (recorded as a binding by `actor`) or not,
    held by `office_id` (by default the subject's office; neither: the county's stock)."""
    device_id = await _inserted_id(
        conn,
        "INSERT INTO devices (code, kind, owntracks_topic, owntracks_key, http_password_hash,"
        " office_id) VALUES (%s, %s, %s, %s, %s,"
        " COALESCE(%s, (SELECT office_id FROM subjects WHERE id = %s))) RETURNING id",
        (
            code,
            kind.value,
            owntracks_topic,
            owntracks_key,
            http_password_hash,
            office_id,
            subject_id,
        ),
    )
    if subject_id is not None:
        await bind_device(conn, device_id=device_id, subject_id=subject_id, actor=actor)
    return device_id


async def create_zone(
    conn: AsyncConnection[Any],
    *,
    name: str,
    geometry: dict[str, Any],
    office_id: int | None = None,
) -> int:
    """A zone of `office_id`, or shared by every office (None: a county's or district's
    boundary)."""
    return await _inserted_id(
        conn,
        "INSERT INTO zones (name, geometry, office_id) VALUES (%s, %s, %s) RETURNING id",
        (name, Jsonb(geometry), office_id),
    )


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
    return await _inserted_id(
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


async def set_mqtt_password(conn: AsyncConnection[Any], *, code: str, password_hash: str) -> bool:
    """Give the device `code` a broker account; False if there is no such device."""
    cur = await conn.execute(
        "UPDATE devices SET mqtt_password_hash = %s WHERE code = %s", (password_hash, code)
    )
    return cur.rowcount == 1


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    """A device's broker account and the topics it may publish to and read from."""

    username: str
    password_hash: str
    publish: tuple[str, ...]
    read: tuple[str, ...]


async def broker_accounts(conn: AsyncConnection[Any]) -> list[BrokerAccount]:
    """Every active device with an MQTT password: its own v1 topics, and its OwnTracks
    topics if it is an OwnTracks phone; nothing else. An OwnTracks topic registered before
    the database checked it as the API does (a wildcard, a newline) is left out."""
    cur = await conn.execute(
        "SELECT code, mqtt_password_hash,"
        " CASE WHEN owntracks_topic ~ '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$'"
        "  THEN owntracks_topic END"
        " FROM devices WHERE active AND mqtt_password_hash IS NOT NULL ORDER BY code"
    )
    accounts = []
    for code, password_hash, owntracks in await cur.fetchall():
        publish = [
            f"cc/v1/devices/{code}/fix",
            f"cc/v1/devices/{code}/status",
            f"cc/v1/devices/{code}/cmd/result",
        ]
        if owntracks:
            publish += [f"owntracks/{owntracks}", f"owntracks/{owntracks}/event"]
        read = (f"cc/v1/devices/{code}/cmd",) + (
            (f"owntracks/{owntracks}/cmd",) if owntracks else ()
        )
        accounts.append(BrokerAccount(code, password_hash, tuple(publish), read))
    return accounts


async def load_devices(conn: AsyncConnection[Any]) -> list[Device]:
    cur = await conn.execute(
        "SELECT id, code, kind, subject_id, active, owntracks_topic, owntracks_key,"
        " http_password_hash FROM devices"
    )
    return [
        Device(
            id=i,
            code=c,
            kind=DeviceKind(k),
            subject_id=s,
            active=a,
            owntracks_topic=ot,
            owntracks_key=key,
            http_password_hash=h,
        )
        for i, c, k, s, a, ot, key, h in await cur.fetchall()
    ]


async def load_zones(conn: AsyncConnection[Any]) -> list[Zone]:
    cur = await conn.execute("SELECT id, name, geometry FROM zones")
    return [Zone(id=i, name=n, geometry=g) for i, n, g in await cur.fetchall()]


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


async def count_subjects(conn: AsyncConnection[Any]) -> int:
    cur = await conn.execute("SELECT count(*) FROM subjects")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True, slots=True)
class SubjectRow:
    id: int
    name: str
    level: str
    office_id: int
    office: str


async def all_offices(conn: AsyncConnection[Any]) -> list[int]:
    cur = await conn.execute("SELECT id FROM offices ORDER BY id")
    return [int(r[0]) for r in await cur.fetchall()]


async def offices_under(conn: AsyncConnection[Any], *, office_id: int) -> list[int]:
    """The office and every office below it (a county bureau: its district offices)."""
    cur = await conn.execute(
        "WITH RECURSIVE under AS (SELECT id FROM offices WHERE id = %s"
        " UNION SELECT o.id FROM offices o JOIN under u ON o.parent_id = u.id)"
        " SELECT id FROM under ORDER BY id",
        (office_id,),
    )
    return [int(r[0]) for r in await cur.fetchall()]


async def list_subjects(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None = None,
    subject_id: int | None = None,
) -> list[SubjectRow]:
    """Subjects of these offices (None: of every office); `subject_id`: only that one."""
    cur = conn.cursor(row_factory=class_row(SubjectRow))
    await cur.execute(
        "SELECT s.id, s.name, s.level, s.office_id, o.name AS office FROM subjects s"
        " JOIN offices o ON o.id = s.office_id"
        " WHERE "
        + in_offices("s.office_id")
        + " AND (%(subject)s::bigint IS NULL OR s.id = %(subject)s) ORDER BY s.id",
        {"offices": offices, "subject": subject_id},
    )
    return await cur.fetchall()


async def subject_exists(
    conn: AsyncConnection[Any], *, subject_id: int, offices: Sequence[int] | None = None
) -> bool:
    """Is there such a subject in these offices (None: in any)?"""
    cur = await conn.execute(
        "SELECT 1 FROM subjects WHERE id = %(id)s AND " + in_offices("office_id"),
        {"id": subject_id, "offices": offices},
    )
    return await cur.fetchone() is not None


async def registry_version(conn: AsyncConnection[Any]) -> int:
    """Moves whenever devices, zones or zone assignments change (migration 0003)."""
    cur = await conn.execute("SELECT version FROM registry_version")
    row = await cur.fetchone()
    assert row is not None, "registry_version has its one row from migration 0003"
    return int(row[0])


async def subject_levels(conn: AsyncConnection[Any]) -> dict[int, SupervisionLevel]:
    cur = await conn.execute("SELECT id, level FROM subjects")
    return {int(i): SupervisionLevel(level) for i, level in await cur.fetchall()}


# Device bindings --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BindingRow:
    device_code: str
    subject_id: int
    bound_at: datetime
    bound_by: str
    unbound_at: datetime | None
    unbound_by: str | None


async def bind_device(
    conn: AsyncConnection[Any], *, device_id: int, subject_id: int | None, actor: str
) -> None:
    """Bind a device to `subject_id` (None: to nobody), closing its current binding; a bound
    device moves to its subject's office."""
    await conn.execute(
        "UPDATE device_bindings SET unbound_at = now(), unbound_by = %s"
        " WHERE device_id = %s AND unbound_at IS NULL",
        (actor, device_id),
    )
    if subject_id is not None:
        await conn.execute(
            "INSERT INTO device_bindings (device_id, subject_id, bound_by) VALUES (%s, %s, %s)",
            (device_id, subject_id, actor),
        )
    await conn.execute(
        "UPDATE devices SET subject_id = %s,"
        " office_id = COALESCE((SELECT office_id FROM subjects WHERE id = %s), office_id)"
        " WHERE id = %s",
        (subject_id, subject_id, device_id),
    )


async def device_bindings(conn: AsyncConnection[Any], *, subject_id: int) -> list[BindingRow]:
    """Every device the subject carried, newest binding first."""
    cur = conn.cursor(row_factory=class_row(BindingRow))
    await cur.execute(
        "SELECT d.code AS device_code, b.subject_id, b.bound_at, b.bound_by, b.unbound_at,"
        " b.unbound_by FROM device_bindings b JOIN devices d ON d.id = b.device_id"
        " WHERE b.subject_id = %s ORDER BY b.bound_at DESC, b.id DESC",
        (subject_id,),
    )
    return await cur.fetchall()
