"""The registry as people manage it through the API: offices, users, subjects, devices,
zones and assignments read and changed within the caller's offices, and the log of every
change made (append-only, for the auditors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection

# In every query here `offices` is the caller's scope: a list of office ids, or None for all.


# Offices ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfficeRow:
    id: int
    name: str
    parent_id: int | None


async def list_offices(
    conn: AsyncConnection[Any], *, offices: Sequence[int] | None
) -> list[OfficeRow]:
    cur = conn.cursor(row_factory=class_row(OfficeRow))
    await cur.execute(
        "SELECT id, name, parent_id FROM offices"
        " WHERE %(offices)s::bigint[] IS NULL OR id = ANY(%(offices)s) ORDER BY id",
        {"offices": offices},
    )
    return await cur.fetchall()


async def office_exists(conn: AsyncConnection[Any], *, office_id: int) -> bool:
    cur = await conn.execute("SELECT 1 FROM offices WHERE id = %s", (office_id,))
    return await cur.fetchone() is not None


async def rename_office(conn: AsyncConnection[Any], *, office_id: int, name: str) -> bool:
    cur = await conn.execute("UPDATE offices SET name = %s WHERE id = %s", (name, office_id))
    return cur.rowcount == 1


# Users ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserAccountRow:
    id: int
    username: str
    role: str
    office_id: int | None
    created_at: datetime
    disabled_at: datetime | None


async def list_users(
    conn: AsyncConnection[Any], *, user_id: int | None = None
) -> list[UserAccountRow]:
    """Every user (`user_id`: only that one)."""
    cur = conn.cursor(row_factory=class_row(UserAccountRow))
    await cur.execute(
        "SELECT id, username, role, office_id, created_at, disabled_at"
        " FROM users WHERE %(id)s::bigint IS NULL OR id = %(id)s ORDER BY id",
        {"id": user_id},
    )
    return await cur.fetchall()


async def update_user(
    conn: AsyncConnection[Any],
    *,
    user_id: int,
    role: str | None = None,
    office_id: int | None = None,
    move_office: bool = False,
    disabled: bool | None = None,
) -> None:
    """Change what is given (`move_office`: set the office, None meaning the whole county).
    Disabling ends the user's sessions and API tokens at once."""
    await conn.execute(
        "UPDATE users SET role = COALESCE(%(role)s::text, role),"
        " office_id = CASE WHEN %(move)s THEN %(office)s::bigint ELSE office_id END,"
        " disabled_at = CASE WHEN %(disabled)s::boolean IS NULL THEN disabled_at"
        "  WHEN %(disabled)s::boolean THEN COALESCE(disabled_at, now()) END"
        " WHERE id = %(id)s",
        {
            "role": role,
            "move": move_office,
            "office": office_id,
            "disabled": disabled,
            "id": user_id,
        },
    )
    if disabled:
        await end_sessions(conn, user_id=user_id)
        await conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
            (user_id,),
        )


async def end_sessions(conn: AsyncConnection[Any], *, user_id: int) -> None:
    await conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )


async def set_password(conn: AsyncConnection[Any], *, user_id: int, password_hash: str) -> None:
    """A new password ends every session and API token of the user (what was obtained with
    a stolen password stops too)."""
    await conn.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s",
        (password_hash, user_id),
    )
    await end_sessions(conn, user_id=user_id)
    await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )


async def password_hash_of(conn: AsyncConnection[Any], *, user_id: int) -> str | None:
    cur = await conn.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
    row = await cur.fetchone()
    return None if row is None else str(row[0])


# Subjects ---------------------------------------------------------------------------------


async def update_subject(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    name: str | None = None,
    level: str | None = None,
    office_id: int | None = None,
) -> None:
    """Change what is given. A subject moving office takes its devices along."""
    await conn.execute(
        "UPDATE subjects SET name = COALESCE(%s::text, name), level = COALESCE(%s::text, level),"
        " office_id = COALESCE(%s::bigint, office_id) WHERE id = %s",
        (name, level, office_id, subject_id),
    )
    if office_id is not None:
        await conn.execute(
            "UPDATE devices SET office_id = %s WHERE subject_id = %s", (office_id, subject_id)
        )


async def subject_office(conn: AsyncConnection[Any], *, subject_id: int) -> int | None:
    cur = await conn.execute("SELECT office_id FROM subjects WHERE id = %s", (subject_id,))
    row = await cur.fetchone()
    return None if row is None else int(row[0])


# Devices ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: int
    code: str
    kind: str
    office_id: int | None
    subject_id: int | None
    active: bool
    owntracks_topic: str | None
    has_mqtt_account: bool
    has_owntracks_key: bool
    has_http_password: bool
    last_fix_at: datetime | None
    last_received_at: datetime | None
    battery: int | None


_DEVICES = (
    "SELECT d.id, d.code, d.kind, d.office_id, d.subject_id, d.active, d.owntracks_topic,"
    " d.mqtt_password_hash IS NOT NULL AS has_mqtt_account,"
    " d.owntracks_key IS NOT NULL AS has_owntracks_key,"
    " d.http_password_hash IS NOT NULL AS has_http_password, p.time AS last_fix_at,"
    " p.received_at AS last_received_at, p.battery"
    " FROM devices d LEFT JOIN device_positions p ON p.device_id = d.id"
)


async def list_devices(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    subject_id: int | None = None,
    device_id: int | None = None,
) -> list[DeviceRow]:
    """Devices held by these offices (the county's stock only for a county-wide scope), when
    each last reported a fix and its battery then (no position: that is a location read)."""
    cur = conn.cursor(row_factory=class_row(DeviceRow))
    await cur.execute(
        f"{_DEVICES} WHERE (%(offices)s::bigint[] IS NULL"
        " OR d.office_id = ANY(%(offices)s))"
        " AND (%(subject)s::bigint IS NULL OR d.subject_id = %(subject)s)"
        " AND (%(device)s::bigint IS NULL OR d.id = %(device)s) ORDER BY d.id",
        {"offices": offices, "subject": subject_id, "device": device_id},
    )
    return await cur.fetchall()


async def update_device(
    conn: AsyncConnection[Any],
    *,
    device_id: int,
    active: bool | None = None,
    office_id: int | None = None,
    owntracks_key: str | None = None,
    http_password_hash: str | None = None,
) -> None:
    """Change what is given (None: unchanged)."""
    await conn.execute(
        "UPDATE devices SET active = COALESCE(%s::boolean, active),"
        " office_id = COALESCE(%s::bigint, office_id),"
        " owntracks_key = COALESCE(%s::text, owntracks_key),"
        " http_password_hash = COALESCE(%s::text, http_password_hash)"
        " WHERE id = %s",
        (active, office_id, owntracks_key, http_password_hash, device_id),
    )


# Zones ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZoneRow:
    id: int
    name: str
    office_id: int | None
    geometry: dict[str, Any]
    created_at: datetime


async def list_zones(
    conn: AsyncConnection[Any], *, offices: Sequence[int] | None, zone_id: int | None = None
) -> list[ZoneRow]:
    """Zones of these offices and the zones every office shares."""
    cur = conn.cursor(row_factory=class_row(ZoneRow))
    await cur.execute(
        "SELECT id, name, office_id, geometry, created_at FROM zones"
        " WHERE (office_id IS NULL OR %(offices)s::bigint[] IS NULL"
        " OR office_id = ANY(%(offices)s))"
        " AND (%(zone)s::bigint IS NULL OR id = %(zone)s) ORDER BY id",
        {"offices": offices, "zone": zone_id},
    )
    return await cur.fetchall()


async def update_zone(
    conn: AsyncConnection[Any], *, zone_id: int, name: str, geometry: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE zones SET name = %s, geometry = %s WHERE id = %s",
        (name, Jsonb(geometry), zone_id),
    )


# Assignments ------------------------------------------------------------------------------


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


# The change log ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    at: datetime
    username: str
    action: str
    target: str
    target_id: int | None
    office_id: int | None
    detail: dict[str, Any]


async def record_change(
    conn: AsyncConnection[Any],
    *,
    username: str,
    action: str,
    target: str,
    target_id: int | None,
    office_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write who changed what, in the change's own transaction."""
    await conn.execute(
        "INSERT INTO changes (username, action, target, target_id, office_id, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (username, action, target, target_id, office_id, Jsonb(detail or {})),
    )


async def list_changes(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    target: str | None = None,
    target_id: int | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
) -> list[ChangeRow]:
    """Changes concerning these offices (county-wide ones only for a county-wide scope),
    newest first."""
    cur = conn.cursor(row_factory=class_row(ChangeRow))
    await cur.execute(
        "SELECT id, at, username, action, target, target_id, office_id, detail FROM changes"
        " WHERE "
        + in_offices("office_id")
        + " AND (%(target)s::text IS NULL OR target = %(target)s)"
        " AND (%(target_id)s::bigint IS NULL OR target_id = %(target_id)s)"
        " AND (%(username)s::text IS NULL OR username = %(username)s)"
        " AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR at < %(until)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {
            "offices": offices,
            "target": target,
            "target_id": target_id,
            "username": username,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    return await cur.fetchall()
