"""Prohibition orders (禁止令): protected persons (managed by supervisors of their office)
and the pairs an order keeps apart. A protected person's phone is registered as a device
(`POST /devices` with `protected_person_id`); its positions are read by the proximity rule
and, each look recorded with its purpose, by the users of the offices and roles their
grants name (never by anyone else, never in the live feed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

import store
from api import schemas
from api.auth import CurrentUser, Manager
from api.changes import record
from api.deps import Conn, Id, Timestamp
from api.principal import Principal
from api.reads import Purpose, on_record
from api.subjects import KnownSubject, office_in_scope
from domain import Language

router = APIRouter(tags=["prohibition orders"])


class NewProtectedPerson(BaseModel):
    office_id: Id
    code: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,32}$",
        description="how alerts and officers name them (P-17): never their name",
    )
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(
        default=None, pattern=r"^\+?[0-9]{5,20}$", description="for the warnings by SMS"
    )
    sms_opt_in: bool = Field(default=False, description="warned by SMS when a subject is near")
    language: Language = "zh"
    pursuit_consent: bool = Field(
        default=False, description="their phone may be asked to report faster meanwhile"
    )


async def _person(
    conn: Conn, user: Principal, person_id: Id
) -> store.prohibitions.ProtectedPersonRow:
    """404 unless the protected person is of the caller's offices."""
    rows = await store.prohibitions.list_protected_persons(
        conn, offices=user.scope, person_id=person_id
    )
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no protected person {person_id}")
    return rows[0]


@router.post(
    "/protected-persons",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ProtectedPerson,
)
async def create_protected_person(
    body: NewProtectedPerson, conn: Conn, user: Manager
) -> store.prohibitions.ProtectedPersonRow:
    office_in_scope(user, body.office_id)
    if body.sms_opt_in and body.phone is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "sms_opt_in needs the phone to text"
        )
    person_id = await store.prohibitions.create_protected_person(
        conn,
        office_id=body.office_id,
        code=body.code,
        name=body.name,
        phone=body.phone,
        sms_opt_in=body.sms_opt_in,
        language=body.language,
        pursuit_consent=body.pursuit_consent,
    )
    await record(conn, user, "create", "protected_person", person_id, body.office_id, body)
    return await _person(conn, user, person_id)


@router.get("/protected-persons", response_model=list[schemas.ProtectedPerson])
async def list_protected_persons(
    conn: Conn, user: Manager
) -> list[store.prohibitions.ProtectedPersonRow]:
    """The protected persons of the caller's offices (supervisors and admins only)."""
    return await store.prohibitions.list_protected_persons(conn, offices=user.scope)


@router.get("/protected-persons/readable", response_model=list[schemas.ReadableProtectedPerson])
async def readable_protected_persons(
    conn: Conn, user: CurrentUser
) -> list[store.prohibitions.ProtectedPersonRow]:
    """The protected persons whose position the caller may look at (a grant names their
    own office and role); no position here."""
    return await store.prohibitions.readable_protected_persons(
        conn, role=user.role.value, office_id=user.office_id
    )


@router.get("/protected-persons/{person_id}", response_model=schemas.ProtectedPerson)
async def get_protected_person(
    person_id: Id, conn: Conn, user: Manager
) -> store.prohibitions.ProtectedPersonRow:
    return await _person(conn, user, person_id)


class NewProhibition(BaseModel):
    """Exactly one of `protected_person_id` and `other_subject_id`."""

    protected_person_id: Id | None = None
    other_subject_id: Id | None = Field(default=None, description="a co-defendant, say")
    distance_m: float = Field(ge=10, le=50_000, description="closer than this is a breach")
    for_s: float = Field(
        default=0, ge=0, le=86_400, description="two subjects: near this long is a meeting"
    )
    warn_s: float = Field(
        default=300,
        ge=0,
        le=3600,
        description="a protected person: warn when the subject is predicted within"
        " distance_m this soon (0: no warning)",
    )

    @model_validator(mode="after")
    def _one_other(self) -> NewProhibition:
        if (self.protected_person_id is None) == (self.other_subject_id is None):
            raise ValueError("give exactly one of protected_person_id and other_subject_id")
        return self


@router.get(
    "/subjects/{subject_id}/prohibitions",
    tags=["subjects"],
    response_model=list[schemas.Prohibition],
)
async def list_prohibitions(
    subject_id: KnownSubject, conn: Conn, user: CurrentUser
) -> list[store.prohibitions.ProhibitionRow]:
    """The pairs the subject's prohibition orders keep apart (either side of a pair)."""
    return await store.prohibitions.list_prohibitions(
        conn, offices=user.scope, subject_id=subject_id
    )


@router.post(
    "/subjects/{subject_id}/prohibitions",
    status_code=status.HTTP_201_CREATED,
    tags=["subjects"],
    response_model=schemas.Prohibition,
)
async def create_prohibition(
    subject_id: KnownSubject, body: NewProhibition, conn: Conn, user: Manager
) -> store.prohibitions.ProhibitionRow:
    """Watch a pair while the subject is under a monitoring order: a protected person's
    phone as a moving exclusion zone of `distance_m`, or another subject not to be met."""
    if body.protected_person_id is not None:
        await _person(conn, user, body.protected_person_id)
    if body.other_subject_id is not None and not await store.subjects.subject_exists(
        conn, subject_id=body.other_subject_id, offices=user.scope
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subject {body.other_subject_id}")
    if body.other_subject_id == subject_id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "a subject cannot be kept from themselves"
        )
    prohibition_id = await store.prohibitions.create_prohibition(
        conn,
        subject_id=subject_id,
        protected_person_id=body.protected_person_id,
        other_subject_id=body.other_subject_id,
        distance_m=body.distance_m,
        for_s=body.for_s,
        warn_s=body.warn_s,
        actor=user.username,
    )
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "create", "prohibition", prohibition_id, office, body)
    return await _prohibition(conn, user, prohibition_id)


async def _prohibition(
    conn: Conn, user: Principal, prohibition_id: Id
) -> store.prohibitions.ProhibitionRow:
    rows = await store.prohibitions.list_prohibitions(
        conn, offices=user.scope, prohibition_id=prohibition_id
    )
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no prohibition {prohibition_id}")
    return rows[0]


@router.post("/prohibitions/{prohibition_id}/retire", response_model=schemas.Prohibition)
async def retire_prohibition(
    prohibition_id: Id, conn: Conn, user: Manager
) -> store.prohibitions.ProhibitionRow:
    """Stop watching the pair (the court lifted the order); its alerts keep their history."""
    await _prohibition(conn, user, prohibition_id)
    if not await store.prohibitions.retire_prohibition(conn, prohibition_id=prohibition_id):
        raise HTTPException(status.HTTP_409_CONFLICT, "the prohibition is already retired")
    row = await _prohibition(conn, user, prohibition_id)
    office = await store.subjects.subject_office(conn, subject_id=row.subject_id)
    await record(conn, user, "retire", "prohibition", prohibition_id, office)
    return row


class NewGrant(BaseModel):
    office_id: Id = Field(
        description="the caller's offices, or one above the protected person's (the county"
        " duty centre)"
    )
    role: Literal["supervisor", "officer"] = Field(
        description="its users of this role only (admins and auditors are never granted)"
    )


@router.get("/protected-persons/{person_id}/grants", response_model=list[schemas.ProtectedGrant])
async def list_grants(
    person_id: Id, conn: Conn, user: Manager
) -> list[store.prohibitions.GrantRow]:
    """Who may see the protected person's position, and who could (revoked grants)."""
    await _person(conn, user, person_id)
    return await store.prohibitions.list_grants(conn, person_id=person_id)


@router.post(
    "/protected-persons/{person_id}/grants",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ProtectedGrant,
)
async def create_grant(
    person_id: Id, body: NewGrant, conn: Conn, user: Manager
) -> store.prohibitions.GrantRow:
    """Let the users of a role of an office see the protected person's position, as the
    order allows (each look recorded)."""
    person = await _person(conn, user, person_id)
    if not await store.offices.office_exists(conn, office_id=body.office_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no office {body.office_id}")
    above = person.office_id in await store.offices.offices_under(conn, office_id=body.office_id)
    if not (above or user.sees(body.office_id)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "grant your own offices, or one above the protected person's",
        )
    grant_id = await store.prohibitions.create_grant(
        conn, person_id=person_id, office_id=body.office_id, role=body.role, actor=user.username
    )
    if grant_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "that office and role already have it")
    await record(conn, user, "create", "protected_grant", grant_id, person.office_id, body)
    (row,) = await store.prohibitions.list_grants(conn, person_id=person_id, grant_id=grant_id)
    return row


@router.post(
    "/protected-persons/{person_id}/grants/{grant_id}/revoke",
    response_model=schemas.ProtectedGrant,
)
async def revoke_grant(
    person_id: Id, grant_id: Id, conn: Conn, user: Manager
) -> store.prohibitions.GrantRow:
    """End a grant at once: its users see the position no more."""
    person = await _person(conn, user, person_id)
    rows = await store.prohibitions.list_grants(conn, person_id=person_id, grant_id=grant_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no grant {grant_id}")
    if not await store.prohibitions.revoke_grant(
        conn, person_id=person_id, grant_id=grant_id, actor=user.username
    ):
        raise HTTPException(status.HTTP_409_CONFLICT, "the grant is already revoked")
    await record(conn, user, "revoke", "protected_grant", grant_id, person.office_id)
    (row,) = await store.prohibitions.list_grants(conn, person_id=person_id, grant_id=grant_id)
    return row


class ProtectedPositions(BaseModel):
    protected_person_id: Id
    code: str
    since: datetime
    until: datetime
    positions: list[schemas.ProtectedFix] = Field(description="newest first")


@router.get("/protected-persons/{person_id}/positions")
async def protected_positions(
    person_id: Id,
    purpose: Purpose,
    conn: Conn,
    user: CurrentUser,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> ProtectedPositions:
    """Where the protected person was in [since, until) (default: the last 24 hours), the
    newest `limit` fixes (default: the latest position). Only for a user whose own office
    and role a grant names; anyone else is told there is no such protected person.
    Recorded: who, whose, which range, why."""
    readable = await store.prohibitions.readable_protected_persons(
        conn, role=user.role.value, office_id=user.office_id
    )
    person = next((p for p in readable if p.id == person_id), None)
    if person is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no protected person {person_id} whose position you may see"
        )
    until = until or datetime.now(UTC)
    since = since or until - timedelta(hours=24)
    if until <= since:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until must be after since")
    positions = await store.prohibitions.protected_positions(
        conn, person_id=person_id, since=since, until=until, limit=limit
    )
    await on_record(
        conn,
        user,
        what="latest" if limit == 1 else "trail",
        purpose=purpose,
        fixes=len(positions),
        since=since,
        until=until,
        protected_person_id=person_id,
    )
    return ProtectedPositions(
        protected_person_id=person_id,
        code=person.code,
        since=since,
        until=until,
        positions=schemas.each(schemas.ProtectedFix, positions),
    )
