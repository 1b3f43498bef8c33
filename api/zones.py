"""Zones as GeoJSON in and out (WGS-84, or GCJ-02 for maps of Chinese providers), and
which subject must stay in or out of which zone when (assignments and their schedules)."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, status
from psycopg import errors
from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

import store
from api import schemas
from api.auth import CurrentUser, Manager
from api.changes import record
from api.deps import Conn, Id
from api.principal import Principal
from api.subjects import KnownSubject, office_in_scope
from domain import OneOffWindow, Schedule, WeeklyWindow, ZoneRole
from domain.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geofence import ScheduleError, ZoneError, check_schedule, compile_shape

router = APIRouter(tags=["zones"])


class Crs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"


CrsQuery = Annotated[
    Crs,
    Query(
        description="coordinates of the body or answer: WGS-84 (stored), or GCJ-02 as the"
        " maps of Chinese providers draw them (converted here)"
    ),
]


def moved(geometry: Any, to_wgs84: bool) -> Any:
    """The geometry with every [lon, lat] position converted."""
    if isinstance(geometry, dict):
        return {
            k: moved(v, to_wgs84) if k in ("coordinates", "center") else v
            for k, v in geometry.items()
        }
    if (
        isinstance(geometry, list)
        and len(geometry) == 2
        and all(isinstance(c, int | float) for c in geometry)
    ):
        convert = gcj02_to_wgs84 if to_wgs84 else wgs84_to_gcj02
        lon, lat = convert(np.array([geometry[0]]), np.array([geometry[1]]))
        return [float(lon[0]), float(lat[0])]
    if isinstance(geometry, list):
        return [moved(part, to_wgs84) for part in geometry]
    return geometry


class ZoneProperties(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    office_id: Id | None = Field(
        default=None, description="the office it belongs to; None: shared by every office"
    )


class ZoneFeature(BaseModel):
    """A GeoJSON Feature. `geometry`: a Polygon or MultiPolygon, or ccmon's
    {"type": "Circle", "center": [lon, lat], "radius_m": r} or
    {"type": "Corridor", "coordinates": [[lon, lat], ...], "width_m": w}."""

    type: Literal["Feature"] = "Feature"
    id: int | None = None
    geometry: dict[str, Any]
    properties: ZoneProperties


class ZoneCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZoneFeature]


def _feature(row: store.zones.ZoneRow, crs: Crs) -> ZoneFeature:
    geometry = row.geometry if crs is Crs.WGS84 else moved(row.geometry, to_wgs84=False)
    return ZoneFeature(
        id=row.id,
        geometry=geometry,
        properties=ZoneProperties(name=row.name, office_id=row.office_id),
    )


def _checked(feature: ZoneFeature, crs: Crs) -> dict[str, Any]:
    """The feature's geometry in WGS-84, as the geofence will compile it; 422 if it cannot."""
    geometry = feature.geometry if crs is Crs.WGS84 else moved(feature.geometry, to_wgs84=True)
    try:
        compile_shape(0, geometry)
    except ZoneError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return geometry


def _may_hold(user: Principal, office_id: Id | None) -> None:
    if office_id is None and user.offices is not None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only a county-wide user manages the shared zones"
        )
    if office_id is not None:
        office_in_scope(user, office_id)


async def _zone(conn: Conn, user: Principal, zone_id: Id) -> store.zones.ZoneRow:
    rows = await store.zones.list_zones(conn, offices=user.scope, zone_id=zone_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no zone {zone_id}")
    return rows[0]


@router.get("/zones")
async def list_zones(conn: Conn, user: CurrentUser, crs: CrsQuery = Crs.WGS84) -> ZoneCollection:
    """The zones of the caller's offices and the shared ones, as a FeatureCollection."""
    rows = await store.zones.list_zones(conn, offices=user.scope)
    return ZoneCollection(features=[_feature(r, crs) for r in rows])


@router.get("/zones/{zone_id}")
async def get_zone(
    zone_id: Id, conn: Conn, user: CurrentUser, crs: CrsQuery = Crs.WGS84
) -> ZoneFeature:
    return _feature(await _zone(conn, user, zone_id), crs)


@router.post("/zones", status_code=status.HTTP_201_CREATED)
async def create_zone(
    body: ZoneFeature, conn: Conn, user: Manager, crs: CrsQuery = Crs.WGS84
) -> ZoneFeature:
    _may_hold(user, body.properties.office_id)
    geometry = _checked(body, crs)
    zone_id = await store.zones.create_zone(
        conn, name=body.properties.name, geometry=geometry, office_id=body.properties.office_id
    )
    await record(conn, user, "create", "zone", zone_id, body.properties.office_id, body)
    return _feature(await _zone(conn, user, zone_id), crs)


@router.put("/zones/{zone_id}")
async def replace_zone(
    zone_id: Id, body: ZoneFeature, conn: Conn, user: Manager, crs: CrsQuery = Crs.WGS84
) -> ZoneFeature:
    """A new name and geometry; the pipelines apply it within seconds. The zone stays with
    its office (`properties.office_id` must not change)."""
    zone = await _zone(conn, user, zone_id)
    _may_hold(user, zone.office_id)
    if body.properties.office_id != zone.office_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"zone {zone_id} belongs to office {zone.office_id}: a zone cannot change office",
        )
    geometry = _checked(body, crs)
    await store.zones.update_zone(
        conn, zone_id=zone_id, name=body.properties.name, geometry=geometry
    )
    await record(conn, user, "replace", "zone", zone_id, zone.office_id, body)
    return _feature(await _zone(conn, user, zone_id), crs)


# Assignments ------------------------------------------------------------------------------


class Weekly(BaseModel):
    days: list[int] = Field(min_length=1, max_length=7, description="0 = Monday ... 6 = Sunday")
    start: time = Field(description="local time, HH:MM")
    end: time = Field(description="local time; not after start: runs past midnight")

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(not 0 <= d <= 6 for d in days) or len(set(days)) != len(days):
            raise ValueError("days are distinct weekdays 0 (Monday) to 6 (Sunday)")
        return days


class Once(BaseModel):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Once:
        if self.end <= self.start:
            raise ValueError("a window ends after it starts")
        return self


class ScheduleIn(BaseModel):
    """When an assignment applies; no windows at all: always."""

    timezone: str = "Asia/Shanghai"
    weekly: list[Weekly] = Field(default_factory=list, max_length=50)
    once: list[Once] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _compiles(self) -> ScheduleIn:
        try:
            check_schedule(self.schedule())
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return self

    def schedule(self) -> Schedule:
        return Schedule(
            timezone=self.timezone,
            weekly=tuple(WeeklyWindow(tuple(w.days), w.start, w.end) for w in self.weekly),
            once=tuple(OneOffWindow(w.start, w.end) for w in self.once),
        )


class NewAssignment(BaseModel):
    zone_id: Id
    role: ZoneRole = Field(description="inclusion: must stay inside; exclusion: must stay out")
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)


class AssignmentPatch(BaseModel):
    schedule: ScheduleIn


async def _assignment(
    conn: Conn, subject_id: Id, assignment_id: Id
) -> store.assignments.AssignmentRow:
    rows = await store.assignments.list_assignments(
        conn, subject_id=subject_id, assignment_id=assignment_id, ended=True
    )
    if not rows:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"subject {subject_id} has no assignment {assignment_id}"
        )
    return rows[0]


@router.get(
    "/subjects/{subject_id}/assignments", tags=["subjects"], response_model=list[schemas.Assignment]
)
async def list_assignments(
    subject_id: KnownSubject, conn: Conn, ended: bool = False
) -> list[store.assignments.AssignmentRow]:
    """The subject's zones with role and schedule; `ended=true`: the ended ones too."""
    return await store.assignments.list_assignments(conn, subject_id=subject_id, ended=ended)


@router.post(
    "/subjects/{subject_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    tags=["subjects"],
    response_model=schemas.Assignment,
)
async def assign_zone(
    subject_id: KnownSubject, body: NewAssignment, conn: Conn, user: Manager
) -> store.assignments.AssignmentRow:
    await _zone(conn, user, body.zone_id)
    try:
        async with conn.transaction():
            assignment_id = await store.assignments.assign_zone(
                conn,
                subject_id=subject_id,
                zone_id=body.zone_id,
                role=body.role,
                schedule=body.schedule.schedule(),
            )
    except errors.UniqueViolation:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"zone {body.zone_id} is already assigned to subject {subject_id} as {body.role}",
        ) from None
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "assign", "assignment", assignment_id, office, body)
    return await _assignment(conn, subject_id, assignment_id)


@router.patch(
    "/subjects/{subject_id}/assignments/{assignment_id}",
    tags=["subjects"],
    response_model=schemas.Assignment,
)
async def change_schedule(
    subject_id: KnownSubject, assignment_id: Id, body: AssignmentPatch, conn: Conn, user: Manager
) -> store.assignments.AssignmentRow:
    """A new schedule (a curfew's hours); a leave's destination keeps the leave's window."""
    current = await _assignment(conn, subject_id, assignment_id)
    if current.ended_at is not None or current.leave_id is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"assignment {assignment_id} has ended or belongs to leave {current.leave_id}",
        )
    await store.assignments.set_schedule(
        conn, assignment_id=assignment_id, schedule=body.schedule.schedule()
    )
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "schedule", "assignment", assignment_id, office, body)
    return await _assignment(conn, subject_id, assignment_id)


@router.delete(
    "/subjects/{subject_id}/assignments/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["subjects"],
)
async def end_assignment(
    subject_id: KnownSubject, assignment_id: Id, conn: Conn, user: Manager
) -> None:
    """End the assignment now (it is kept, ended: alerts refer to it)."""
    current = await _assignment(conn, subject_id, assignment_id)
    if current.leave_id is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"assignment {assignment_id} is leave {current.leave_id}'s destination",
        )
    if not await store.assignments.end_assignment(
        conn, assignment_id=assignment_id, actor=user.username
    ):
        raise HTTPException(status.HTTP_409_CONFLICT, f"assignment {assignment_id} has ended")
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "end", "assignment", assignment_id, office)
