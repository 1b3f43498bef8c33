"""Devices (phones, wristbands): registration, binding to subjects with its history, and
broker accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from domain import (
    Device,
    DeviceKind,
)
from store.rows import inserted_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


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
    protected_person_id: int | None = None,
    actor: str,
) -> int:
    """Register a device, bound to `subject_id` (recorded as a binding by `actor`) or not,
    held by `office_id` (by default the subject's office; neither: the county's stock). A
    protected person's phone (`protected_person_id`) is held by their office."""
    device_id = await inserted_id(
        conn,
        "INSERT INTO devices (code, kind, owntracks_topic, owntracks_key, http_password_hash,"
        " protected_person_id, office_id) VALUES (%s, %s, %s, %s, %s, %s,"
        " COALESCE(%s, (SELECT office_id FROM subjects WHERE id = %s),"
        "  (SELECT office_id FROM protected_persons WHERE id = %s))) RETURNING id",
        (
            code,
            kind.value,
            owntracks_topic,
            owntracks_key,
            http_password_hash,
            protected_person_id,
            office_id,
            subject_id,
            protected_person_id,
        ),
    )
    if subject_id is not None:
        await bind_device(conn, device_id=device_id, subject_id=subject_id, actor=actor)
    return device_id


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
        " http_password_hash, protected_person_id FROM devices"
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
            protected_person_id=p,
        )
        for i, c, k, s, a, ot, key, h, p in await cur.fetchall()
    ]


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


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: int
    code: str
    kind: str
    office_id: int | None
    subject_id: int | None
    protected_person_id: int | None
    active: bool
    owntracks_topic: str | None
    has_mqtt_account: bool
    has_owntracks_key: bool
    has_http_password: bool
    last_fix_at: datetime | None
    last_received_at: datetime | None
    battery: int | None


_DEVICES = (
    "SELECT d.id, d.code, d.kind, d.office_id, d.subject_id, d.protected_person_id, d.active,"
    " d.owntracks_topic,"
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
