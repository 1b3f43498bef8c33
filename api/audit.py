"""The audit trail, for auditors (and admins): who looked at whose locations, and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

import store
from api import schemas
from api.auth import CurrentUser
from api.deps import Conn, Id, Timestamp
from api.principal import Principal
from domain import Role

router = APIRouter(prefix="/audit", tags=["audit"])


async def _auditor(user: CurrentUser) -> Principal:
    if user.role not in (Role.AUDITOR, Role.ADMIN):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the audit trail is for auditors")
    return user


Auditor = Annotated[Principal, Depends(_auditor)]


@router.get("/location-reads", response_model=list[schemas.LocationRead])
async def location_reads(
    conn: Conn,
    user: Auditor,
    subject_id: Id | None = None,
    protected_person_id: Id | None = None,
    username: str | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[store.audit.LocationReadRow]:
    """Every read of a location of the caller's offices' subjects and protected persons,
    newest first: who, whose, what (latest positions or a trail and its range), why, how
    many fixes, when. Nobody can change or remove a row."""
    return await store.audit.location_reads(
        conn,
        offices=user.scope,
        subject_id=subject_id,
        protected_person_id=protected_person_id,
        username=username,
        since=since,
        until=until,
        limit=limit,
    )


@router.get("/changes", response_model=list[schemas.Change])
async def changes(
    conn: Conn,
    user: Auditor,
    target: str | None = Query(default=None, description="office, user, subject, device, ..."),
    target_id: Id | None = None,
    username: str | None = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[store.changes.ChangeRow]:
    """Every change made through the API concerning the caller's offices, newest first:
    who, what, to which object, with what was asked (never a password). Nobody can change
    or remove a row."""
    return await store.changes.list_changes(
        conn,
        offices=user.scope,
        target=target,
        target_id=target_id,
        username=username,
        since=since,
        until=until,
        limit=limit,
    )


@router.get("/purges", response_model=list[schemas.Purge])
async def purges(
    conn: Conn, user: Auditor, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> list[store.retention.PurgeRow]:
    """What retention deleted, newest first: whose fixes, of which order's period, how many,
    when."""
    return await store.retention.list_purges(conn, offices=user.scope, limit=limit)
