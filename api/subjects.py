"""Subjects and their latest positions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

import store
from api.auth import CurrentUser
from api.deps import Conn

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.get("")
async def list_subjects(conn: Conn, user: CurrentUser) -> list[store.SubjectRow]:
    """The subjects of the caller's offices."""
    return await store.list_subjects(conn, offices=user.scope)


async def _known_subject(subject_id: int, conn: Conn, user: CurrentUser) -> int:
    """The path's subject, after the caller is authenticated; 404 if there is none in the
    caller's offices (whether it exists elsewhere is not told)."""
    if not await store.subject_exists(conn, subject_id=subject_id, offices=user.scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subject {subject_id}")
    return subject_id


KnownSubject = Annotated[int, Depends(_known_subject)]
Limit = Annotated[int, Query(ge=1, le=10_000)]


Purpose = Annotated[
    str,
    Query(
        min_length=4,
        max_length=500,
        description="why the location is needed (recorded in the audit trail with the read)",
    ),
]


@router.get("/{subject_id}/fixes")
async def subject_fixes(
    subject_id: KnownSubject, purpose: Purpose, conn: Conn, user: CurrentUser, limit: Limit = 100
) -> list[store.FixRow]:
    """The subject's newest fixes (its latest positions), newest first. Recorded: who,
    whose, why."""
    fixes = await store.last_fixes(conn, subject_id=subject_id, limit=limit)
    await store.record_location_read(
        conn,
        username=user.username,
        subject_id=subject_id,
        what="latest",
        purpose=purpose,
        fixes=len(fixes),
    )
    return fixes


class Trail(BaseModel):
    subject_id: int
    since: datetime
    until: datetime
    fixes_in_range: int = Field(
        description="stored in the range; `points` keeps at most max_points"
    )
    points: list[store.FixRow]


@router.get("/{subject_id}/trail")
async def subject_trail(
    subject_id: KnownSubject,
    purpose: Purpose,
    since: AwareDatetime,
    until: AwareDatetime,
    conn: Conn,
    user: CurrentUser,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = 2000,
) -> Trail:
    """Where the subject was in [since, until), oldest first, with each fix's accuracy and
    source; a long range is cut into `max_points` equal spans and the most accurate fix of
    each kept. Recorded: who, whose, which range, why."""
    if until <= since:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until must be after since")
    total, points = await store.trail(
        conn, subject_id=subject_id, since=since, until=until, max_points=max_points
    )
    await store.record_location_read(
        conn,
        username=user.username,
        subject_id=subject_id,
        what="trail",
        purpose=purpose,
        fixes=len(points),
        since=since,
        until=until,
    )
    return Trail(
        subject_id=subject_id, since=since, until=until, fixes_in_range=total, points=points
    )


@router.get("/{subject_id}/events")
async def subject_events(
    subject_id: KnownSubject, conn: Conn, limit: Limit = 100
) -> list[store.EventRow]:
    """What the subject's devices reported about themselves, newest first."""
    return await store.subject_events(conn, subject_id=subject_id, limit=limit)
