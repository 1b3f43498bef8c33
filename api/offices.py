"""Offices (司法所 under a county bureau) and the people who use ccmon: admins manage both;
everyone sees the offices they work in."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

import store
from api import schemas
from api.auth import Admin, CurrentUser
from api.changes import record
from api.deps import Conn, Id
from api.passwords import hash_password
from domain import Role

router = APIRouter(tags=["offices and users"])

Name = Annotated[str, Field(min_length=1, max_length=200)]


class NewOffice(BaseModel):
    name: Name
    parent_id: Id | None = Field(default=None, description="the office above; None: a county")


class OfficePatch(BaseModel):
    name: Name


@router.get("/offices", response_model=list[schemas.Office])
async def list_offices(conn: Conn, user: CurrentUser) -> list[store.offices.OfficeRow]:
    """The caller's office and every office below it (all offices for a county user)."""
    return await store.offices.list_offices(conn, offices=user.scope)


@router.post("/offices", status_code=status.HTTP_201_CREATED, response_model=schemas.Office)
async def create_office(body: NewOffice, conn: Conn, user: Admin) -> store.offices.OfficeRow:
    if body.parent_id is not None and not await store.offices.office_exists(
        conn, office_id=body.parent_id
    ):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no office {body.parent_id}")
    office_id = await store.offices.create_office(conn, name=body.name, parent_id=body.parent_id)
    await record(conn, user, "create", "office", office_id, office_id, body)
    return store.offices.OfficeRow(office_id, body.name, body.parent_id)


@router.patch("/offices/{office_id}", response_model=schemas.Office)
async def rename_office(
    office_id: Id, body: OfficePatch, conn: Conn, user: Admin
) -> store.offices.OfficeRow:
    if not await store.offices.rename_office(conn, office_id=office_id, name=body.name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no office {office_id}")
    await record(conn, user, "rename", "office", office_id, office_id, body)
    (office,) = await store.offices.list_offices(conn, offices=[office_id])
    return office


# Users ------------------------------------------------------------------------------------


class NewUser(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    role: Role
    office_id: Id | None = Field(
        default=None, description="the user's office; None: the whole county"
    )
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1000,
        description="at least 12 characters; leave it out to have one generated (shown once)",
    )


class CreatedUser(BaseModel):
    user: schemas.UserAccount
    password: str | None = Field(description="the generated password, shown this once")


class UserPatch(BaseModel):
    """Only what is given changes; `office_id: null` moves the user to the whole county."""

    role: Role | None = None
    office_id: Id | None = None
    disabled: bool | None = Field(
        default=None, description="disabling ends the user's sessions and API tokens"
    )
    phone: str | None = Field(
        default=None,
        pattern=r"^\+?[0-9]{6,15}$",
        description="for text messages about alerts; null removes it",
    )
    on_duty: bool | None = Field(
        default=None, description="on duty: texted new high and critical alerts of the office"
    )


class NewUserPassword(BaseModel):
    password: str = Field(description="shown this once; every session of the user has ended")


async def _office_or_422(conn: Conn, office_id: Id | None) -> None:
    if office_id is not None and not await store.offices.office_exists(conn, office_id=office_id):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"no office {office_id}")


def _county_wide_admin(role: str, office_id: Id | None) -> None:
    """Admins manage users, tokens, webhooks and quarantine of the whole county: one with an
    office would not be confined to it, so an admin has none."""
    if role == Role.ADMIN and office_id is not None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "an admin works county-wide: give an admin no office",
        )


async def _account(conn: Conn, user_id: Id) -> store.users.UserAccountRow:
    accounts = await store.users.list_users(conn, user_id=user_id)
    if not accounts:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")
    return accounts[0]


@router.get("/users", response_model=list[schemas.UserAccount])
async def list_users(conn: Conn, _user: Admin) -> list[store.users.UserAccountRow]:
    return await store.users.list_users(conn)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(body: NewUser, conn: Conn, user: Admin) -> CreatedUser:
    """A new user; without a password in the request, one is generated and shown once."""
    _county_wide_admin(body.role, body.office_id)
    await _office_or_422(conn, body.office_id)
    password = body.password or secrets.token_urlsafe(12)
    generated = None if body.password else password
    user_id = await store.users.create_user(
        conn,
        username=body.username,
        password_hash=hash_password(password),
        role=body.role,
        office_id=body.office_id,
    )
    if user_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the username {body.username!r} is taken")
    account = await _account(conn, user_id)
    await record(conn, user, "create", "user", user_id, body.office_id, body, exclude={"password"})
    return CreatedUser(user=schemas.UserAccount.model_validate(account), password=generated)


@router.patch("/users/{user_id}", response_model=schemas.UserAccount)
async def update_user(
    user_id: Id, body: UserPatch, conn: Conn, user: Admin
) -> store.users.UserAccountRow:
    before = await _account(conn, user_id)
    if user_id == user.user_id and (body.disabled or body.role not in (None, Role.ADMIN)):
        raise HTTPException(
            status.HTTP_409_CONFLICT, "an admin cannot disable or demote themselves"
        )
    moving = "office_id" in body.model_fields_set
    _county_wide_admin(body.role or before.role, body.office_id if moving else before.office_id)
    if moving:
        await _office_or_422(conn, body.office_id)
    await store.users.update_user(
        conn,
        user_id=user_id,
        role=body.role,
        office_id=body.office_id,
        move_office=moving,
        disabled=body.disabled,
        phone=body.phone,
        set_phone="phone" in body.model_fields_set,
        on_duty=body.on_duty,
    )
    account = await _account(conn, user_id)
    await record(conn, user, "update", "user", user_id, account.office_id, body, set_only=True)
    return account


@router.post("/users/{user_id}/password")
async def reset_password(user_id: Id, conn: Conn, user: Admin) -> NewUserPassword:
    """A new generated password for the user (who forgot theirs), shown once."""
    account = await _account(conn, user_id)
    password = secrets.token_urlsafe(12)
    await store.users.set_password(conn, user_id=user_id, password_hash=hash_password(password))
    await record(conn, user, "reset password", "user", user_id, account.office_id)
    return NewUserPassword(password=password)
