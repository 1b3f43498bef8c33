"""Devices: registering phones and wristbands, binding them to subjects, retiring them, and
issuing a device's broker account."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from psycopg import errors
from pydantic import BaseModel, Field

import store
from api import schemas
from api.auth import CurrentUser, Manager
from api.changes import record
from api.deps import Conn, Id, services
from api.principal import Principal
from api.subjects import office_in_scope
from domain import DeviceKind

router = APIRouter(prefix="/devices", tags=["devices"])


class NewDevice(BaseModel):
    code: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="its id on the wire (cc/v1/devices/{code}/...) and its MQTT username",
    )
    kind: DeviceKind
    subject_id: Id | None = Field(default=None, description="bind it to this subject now")
    protected_person_id: Id | None = Field(
        default=None,
        description="a protected person's phone (held by their office; never a subject's)",
    )
    office_id: Id | None = Field(
        default=None, description="the office holding it (by default the subject's)"
    )
    owntracks_topic: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$",
        description="an OwnTracks phone's {user}/{device}",
    )
    owntracks_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="write-only: the OwnTracks app's encryption passphrase, if it encrypts",
    )
    http_password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1000,
        description="write-only: the password of OwnTracks HTTP mode (only its hash is kept)",
    )


class DevicePatch(BaseModel):
    """Only what is given changes; `subject_id: null` unbinds the device."""

    subject_id: Id | None = None
    active: bool | None = Field(default=None, description="false: retired, its fixes refused")
    office_id: Id | None = None
    owntracks_key: str | None = Field(
        default=None, min_length=1, max_length=200, description="write-only: a new passphrase"
    )
    http_password: str | None = Field(
        default=None, min_length=12, max_length=1000, description="write-only: a new password"
    )


_SECRETS = {"owntracks_key", "http_password"}  # never in the change log


async def _hashed(request: Request, password: str | None) -> str | None:
    if password is None:
        return None
    checker = services(request.app).passwords
    return await checker.hash(password)


class MqttCredentials(BaseModel):
    username: str
    password: str = Field(description="shown this once")
    note: str


async def known_device(conn: Conn, user: Principal, device_id: Id) -> store.devices.DeviceRow:
    """The device, if the caller's offices hold it; 404 otherwise (not told apart)."""
    rows = await store.devices.list_devices(conn, offices=user.scope, device_id=device_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no device {device_id}")
    return rows[0]


async def _subject_office(conn: Conn, user: Principal, subject_id: Id) -> int:
    if not await store.subjects.subject_exists(conn, subject_id=subject_id, offices=user.scope):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no subject {subject_id}")
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    assert office is not None, "the subject exists"
    return office


async def _protected_office(conn: Conn, user: Principal, body: NewDevice) -> int:
    """The office of the protected person whose phone `body` registers."""
    if body.subject_id is not None or body.kind is not DeviceKind.PHONE:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "a protected person's device is a phone of theirs alone: no subject_id",
        )
    people = await store.prohibitions.list_protected_persons(
        conn, offices=user.scope, person_id=body.protected_person_id
    )
    if not people:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"no protected person {body.protected_person_id}",
        )
    return people[0].office_id


@router.get("", response_model=list[schemas.Device])
async def list_devices(
    conn: Conn, user: CurrentUser, subject_id: Id | None = None
) -> list[store.devices.DeviceRow]:
    """Devices held by the caller's offices, with when each last reported a fix and its
    battery then."""
    return await store.devices.list_devices(conn, offices=user.scope, subject_id=subject_id)


@router.get("/{device_id}", response_model=schemas.Device)
async def get_device(device_id: Id, conn: Conn, user: CurrentUser) -> store.devices.DeviceRow:
    return await known_device(conn, user, device_id)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Device)
async def create_device(
    body: NewDevice, conn: Conn, user: Manager, request: Request
) -> store.devices.DeviceRow:
    office = body.office_id
    if body.subject_id is not None:
        office = await _subject_office(conn, user, body.subject_id)
    if body.protected_person_id is not None:
        office = await _protected_office(conn, user, body)
    if office is None:
        if user.offices is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "give the office holding the device"
            )
    else:
        office_in_scope(user, office)
    try:
        async with conn.transaction():
            device_id = await store.devices.create_device(
                conn,
                code=body.code,
                kind=body.kind,
                subject_id=body.subject_id,
                protected_person_id=body.protected_person_id,
                owntracks_topic=body.owntracks_topic,
                owntracks_key=body.owntracks_key,
                http_password_hash=await _hashed(request, body.http_password),
                office_id=office,
                actor=user.username,
            )
    except errors.UniqueViolation:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"a device {body.code!r} (or its OwnTracks topic) exists"
        ) from None
    await record(conn, user, "create", "device", device_id, office, body, exclude=_SECRETS)
    return await known_device(conn, user, device_id)


@router.patch("/{device_id}", response_model=schemas.Device)
async def update_device(
    device_id: Id, body: DevicePatch, conn: Conn, user: Manager, request: Request
) -> store.devices.DeviceRow:
    """Bind to another subject (the binding history keeps who carried it when), unbind,
    retire or hand to another office."""
    device = await known_device(conn, user, device_id)
    if body.office_id is not None:
        office_in_scope(user, body.office_id)
    if "subject_id" in body.model_fields_set:
        if device.protected_person_id is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "a protected person's phone is never bound to a subject",
            )
        if body.subject_id is not None:
            await _subject_office(conn, user, body.subject_id)
        await store.devices.bind_device(
            conn, device_id=device_id, subject_id=body.subject_id, actor=user.username
        )
    await store.devices.update_device(
        conn,
        device_id=device_id,
        active=body.active,
        office_id=body.office_id,
        owntracks_key=body.owntracks_key,
        http_password_hash=await _hashed(request, body.http_password),
    )
    device = await known_device(conn, user, device_id)
    await record(
        conn,
        user,
        "update",
        "device",
        device_id,
        device.office_id,
        body,
        set_only=True,
        exclude=_SECRETS,
    )
    return device


@router.post("/{device_id}/mqtt-credentials", status_code=status.HTTP_201_CREATED)
async def issue_mqtt_credentials(
    device_id: Id, conn: Conn, user: Manager, request: Request
) -> MqttCredentials:
    """A new broker password for the device (any old one stops working once the broker's
    files are rewritten); shown this once, only its hash is kept."""
    device = await known_device(conn, user, device_id)
    new_password = services(request.app).device_passwords
    if new_password is None:
        raise HTTPException(
            status.HTTP_501_NOT_IMPLEMENTED, "this server issues no broker accounts"
        )
    password, hashed = new_password()
    await store.devices.set_mqtt_password(conn, code=device.code, password_hash=hashed)
    await record(conn, user, "issue MQTT credentials", "device", device_id, device.office_id)
    return MqttCredentials(
        username=device.code,
        password=password,
        note="the broker lets it in once its accounts are written again: within seconds"
        " under `ccmon serve` with CCMON_MOSQUITTO_AUTH_DIR, else after `ccmon mosquitto-auth`"
        " and a reload (kill -HUP)",
    )
