"""Subjects: registering them, their details, and where they were (every look at a
location recorded with its purpose)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

import store
from alerts import places
from api import schemas
from api.auth import CurrentUser, Manager
from api.changes import record
from api.deps import Conn, Id, Timestamp, services
from api.principal import Principal
from api.reads import Purpose, on_record
from domain import SupervisionLevel, ZoneStatus
from geofence import ZoneError
from geofence.whereabouts import Area

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.get("", response_model=list[schemas.Subject])
async def list_subjects(conn: Conn, user: CurrentUser) -> list[store.subjects.SubjectRow]:
    """The subjects of the caller's offices."""
    return await store.subjects.list_subjects(conn, offices=user.scope)


def office_in_scope(user: Principal, office_id: Id) -> None:
    """404 for an office outside the caller's (whether it exists is not told)."""
    if not user.sees(office_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no office {office_id}")


class NewSubject(BaseModel):
    office_id: Id
    name: str = Field(min_length=1, max_length=200)
    level: SupervisionLevel


class SubjectPatch(BaseModel):
    """Only what is given changes; moving to another office takes the devices along."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    level: SupervisionLevel | None = None
    office_id: Id | None = None
    residence_zone_id: Id | None = Field(
        default=None,
        description="the zone of the registered residence (居住地): the nights-away rule and"
        " the frequent places judge by it; null removes it",
    )


async def _subject_row(conn: Conn, user: Principal, subject_id: Id) -> store.subjects.SubjectRow:
    (row,) = await store.subjects.list_subjects(conn, offices=user.scope, subject_id=subject_id)
    return row


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Subject)
async def create_subject(body: NewSubject, conn: Conn, user: Manager) -> store.subjects.SubjectRow:
    office_in_scope(user, body.office_id)
    subject_id = await store.subjects.create_subject(
        conn, office_id=body.office_id, name=body.name, level=body.level
    )
    await record(conn, user, "create", "subject", subject_id, body.office_id, body)
    return await _subject_row(conn, user, subject_id)


async def _known_subject(subject_id: Id, conn: Conn, user: CurrentUser) -> int:
    """The path's subject, after the caller is authenticated; 404 if there is none in the
    caller's offices (whether it exists elsewhere is not told)."""
    if not await store.subjects.subject_exists(conn, subject_id=subject_id, offices=user.scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subject {subject_id}")
    return subject_id


KnownSubject = Annotated[int, Depends(_known_subject)]
Limit = Annotated[int, Query(ge=1, le=10_000)]


class SubjectDetail(BaseModel):
    """What a subject's page shows, without any position (that is a recorded read)."""

    subject: schemas.Subject
    devices: list[schemas.Device]
    device_history: list[schemas.Binding]
    assignments: list[schemas.Assignment]
    orders: list[schemas.Order]
    active_order_id: Id | None = Field(description="the order in force now, if any")
    leaves: list[schemas.Leave]


@router.get("/{subject_id}")
async def get_subject(subject_id: KnownSubject, conn: Conn, user: CurrentUser) -> SubjectDetail:
    orders = await store.orders.list_orders(conn, subject_id=subject_id)
    now = datetime.now(UTC)
    active = [o.id for o in orders if o.starts_at <= now < o.ends_at]
    return SubjectDetail(
        subject=schemas.Subject.model_validate(await _subject_row(conn, user, subject_id)),
        devices=schemas.each(
            schemas.Device,
            await store.devices.list_devices(conn, offices=None, subject_id=subject_id),
        ),
        device_history=schemas.each(
            schemas.Binding, await store.devices.device_bindings(conn, subject_id=subject_id)
        ),
        assignments=schemas.each(
            schemas.Assignment,
            await store.assignments.list_assignments(conn, subject_id=subject_id),
        ),
        orders=schemas.each(schemas.Order, orders),
        active_order_id=active[-1] if active else None,
        leaves=schemas.each(
            schemas.Leave,
            await store.leaves.list_leaves(conn, offices=None, subject_id=subject_id),
        ),
    )


@router.patch("/{subject_id}", response_model=schemas.Subject)
async def update_subject(
    subject_id: KnownSubject, body: SubjectPatch, conn: Conn, user: Manager
) -> store.subjects.SubjectRow:
    if body.office_id is not None:
        office_in_scope(user, body.office_id)
    residence = "residence_zone_id" in body.model_fields_set
    if (
        residence
        and body.residence_zone_id is not None
        and not await store.zones.list_zones(
            conn, offices=user.scope, zone_id=body.residence_zone_id
        )
    ):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"no zone {body.residence_zone_id}"
        )
    await store.subjects.update_subject(
        conn,
        subject_id=subject_id,
        name=body.name,
        level=None if body.level is None else body.level.value,
        office_id=body.office_id,
        residence_zone_id=body.residence_zone_id,
        set_residence=residence,
    )
    row = await _subject_row(conn, user, subject_id)
    await record(conn, user, "update", "subject", subject_id, row.office_id, body, set_only=True)
    return row


@router.get("/{subject_id}/fixes", response_model=list[schemas.Fix])
async def subject_fixes(
    subject_id: KnownSubject, purpose: Purpose, conn: Conn, user: CurrentUser, limit: Limit = 100
) -> list[store.fixes.FixRow]:
    """The subject's newest fixes (its latest positions), newest first. Recorded: who,
    whose, why."""
    fixes = await store.fixes.last_fixes(conn, subject_id=subject_id, limit=limit)
    await on_record(
        conn, user, what="latest", purpose=purpose, fixes=len(fixes), subject_id=subject_id
    )
    return fixes


class Trail(BaseModel):
    subject_id: Id
    since: datetime
    until: datetime
    fixes_in_range: int = Field(
        description="stored in the range; `points` keeps at most max_points"
    )
    points: list[schemas.Fix]


@router.get("/{subject_id}/trail")
async def subject_trail(
    subject_id: KnownSubject,
    purpose: Purpose,
    since: Timestamp,
    until: Timestamp,
    conn: Conn,
    user: CurrentUser,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = 2000,
) -> Trail:
    """Where the subject was in [since, until), oldest first, with each fix's accuracy and
    source; a long range is cut into `max_points` equal spans and the most accurate fix of
    each kept. Recorded: who, whose, which range, why."""
    if until <= since:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until must be after since")
    total, points = await store.audit.trail(
        conn, subject_id=subject_id, since=since, until=until, max_points=max_points
    )
    await on_record(
        conn,
        user,
        what="trail",
        purpose=purpose,
        fixes=len(points),
        subject_id=subject_id,
        since=since,
        until=until,
    )
    return Trail(
        subject_id=subject_id,
        since=since,
        until=until,
        fixes_in_range=total,
        points=schemas.each(schemas.Fix, points),
    )


class Stay(BaseModel):
    starts_at: datetime
    ends_at: datetime
    lon: float = Field(description="WGS-84, the centre")
    lat: float
    radius_m: float = Field(description="the farthest of the fixes placing it from the centre")
    fixes: int
    current: bool = Field(description="the newest fixes are part of it: it may go on")
    place: int = Field(description="its place: an index into `places`")


class Place(BaseModel):
    lon: float = Field(description="WGS-84, the centre (its stays' centres by length)")
    lat: float
    visits: int
    hours: float = Field(description="dwelt there in all, in the range")
    first: datetime
    last: datetime
    night_visits: int = Field(description="visits overlapping a night (the level's hours)")
    at_residence: bool | None = Field(description="null: no residence registered")
    unknown_at_night: bool = Field(
        description="visited at night and not the residence (never marked without one)"
    )


class Places(BaseModel):
    subject_id: Id
    since: datetime
    until: datetime
    residence_zone_id: Id | None
    night_starts_h: float = Field(description="the night, hours after local midnight")
    night_ends_h: float
    timezone: str
    places: list[Place] = Field(description="the most hours first")
    stays: list[Stay] = Field(description="oldest first")


@router.get("/{subject_id}/places")
async def subject_places(
    subject_id: KnownSubject,
    purpose: Purpose,
    since: Timestamp,
    until: Timestamp,
    request: Request,
    conn: Conn,
    user: CurrentUser,
) -> Places:
    """Where the subject dwelt in [since, until) (their stays, found from the fixes as they
    come) and the places those make, with visits and hours; a place stayed at by night that
    is not the registered residence is marked. Recorded: who, whose, which range, why."""
    if until <= since:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until must be after since")
    if until - since > timedelta(days=400):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "at most 400 days at once")
    shared = services(request.app)
    row = await _subject_row(conn, user, subject_id)
    policy = shared.levels[SupervisionLevel(row.level)]
    night = places.Night(policy.night_starts_h, policy.night_ends_h)
    tz = ZoneInfo(shared.report_timezone)
    found = await store.stays.subject_stays(conn, subject_id=subject_id, since=since, until=until)
    clustered = places.places(
        [places.Dwell(s.starts_at, s.ends_at, s.lon, s.lat) for s in found],
        radius_m=places.PLACE_RADIUS_M,
        night=night,
        tz=tz,
    )
    residence = await _residence(conn, row.residence_zone_id)
    home: list[bool | None] = [None] * len(clustered)
    if residence is not None and clustered:
        status_, _ = residence.status(
            np.array([p.lon for p in clustered]),
            np.array([p.lat for p in clustered]),
            np.full(len(clustered), places.PLACE_RADIUS_M / 2),
        )
        home = [bool(s != ZoneStatus.OUTSIDE) for s in status_]
    place_of = {k: i for i, p in enumerate(clustered) for k in p.stays}
    await on_record(
        conn,
        user,
        what="places",
        purpose=purpose,
        fixes=len(found),
        subject_id=subject_id,
        since=since,
        until=until,
    )
    return Places(
        subject_id=subject_id,
        since=since,
        until=until,
        residence_zone_id=row.residence_zone_id,
        night_starts_h=night.starts_h,
        night_ends_h=night.ends_h,
        timezone=shared.report_timezone,
        places=[
            Place(
                lon=p.lon,
                lat=p.lat,
                visits=p.visits,
                hours=p.hours,
                first=p.first,
                last=p.last,
                night_visits=p.night_visits,
                at_residence=at_home,
                unknown_at_night=p.night_visits > 0 and at_home is False,
            )
            for p, at_home in zip(clustered, home, strict=True)
        ],
        stays=[
            Stay(
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                lon=s.lon,
                lat=s.lat,
                radius_m=s.radius_m,
                fixes=s.fixes,
                current=s.current,
                place=place_of[k],
            )
            for k, s in enumerate(found)
        ],
    )


async def _residence(conn: Conn, zone_id: int | None) -> Area | None:
    """The residence as the geofence compiles it (None: none registered, or its zone no
    longer compiles)."""
    if zone_id is None:
        return None
    zones = await store.zones.list_zones(conn, offices=None, zone_id=zone_id)
    try:
        return Area.of(zones[0].geometry) if zones else None
    except ZoneError:
        return None


@router.get("/{subject_id}/events", response_model=list[schemas.Event])
async def subject_events(
    subject_id: KnownSubject, conn: Conn, limit: Limit = 100
) -> list[store.events.EventRow]:
    """What the subject's devices reported about themselves, newest first."""
    return await store.events.subject_events(conn, subject_id=subject_id, limit=limit)
