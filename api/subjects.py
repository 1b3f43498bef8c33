"""Subjects: registering them, their details, and where they were (every look at a
location recorded with its purpose)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

import store
from api import schemas
from api.auth import CurrentUser, Manager
from api.changes import record
from api.deps import Conn, Id, Timestamp
from api.principal import Principal
from api.reads import Purpose, on_record
from domain import SupervisionLevel

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
    await store.subjects.update_subject(
        conn,
        subject_id=subject_id,
        name=body.name,
        level=None if body.level is None else body.level.value,
        office_id=body.office_id,
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


@router.get("/{subject_id}/events", response_model=list[schemas.Event])
async def subject_events(
    subject_id: KnownSubject, conn: Conn, limit: Limit = 100
) -> list[store.events.EventRow]:
    """What the subject's devices reported about themselves, newest first."""
    return await store.events.subject_events(conn, subject_id=subject_id, limit=limit)
