"""Asking a device: locate now, report faster for a while, or a check-in; each command's
state as it goes (pending, sent, delivered, answered, expired, failed)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

import store
from api import schemas
from api.auth import ActingUser, CurrentUser
from api.changes import record
from api.deps import Conn, Id
from api.devices import known_device
from api.subjects import KnownSubject
from domain import CommandKind

router = APIRouter(tags=["commands"])

Limit = Annotated[int, Query(ge=1, le=1000)]


class NewCommand(BaseModel):
    kind: CommandKind
    interval_s: float | None = Field(
        default=None, ge=5, le=3600, description="set_interval: report this often"
    )
    for_s: float | None = Field(
        default=None, ge=60, le=86400, description="set_interval: for this long, then back"
    )
    expires_in_s: float = Field(
        default=180.0,
        ge=10,
        le=86400,
        description="unanswered by then: expired (an expired check-in is an alert)",
    )

    @model_validator(mode="after")
    def _parameters(self) -> NewCommand:
        wants = self.kind is CommandKind.SET_INTERVAL
        if wants != (self.interval_s is not None and self.for_s is not None):
            raise ValueError("interval_s and for_s go with set_interval, and only with it")
        return self

    def params(self) -> dict[str, Any]:
        if self.kind is CommandKind.SET_INTERVAL:
            return {"interval_s": self.interval_s, "for_s": self.for_s}
        return {}


@router.post(
    "/devices/{device_id}/commands",
    status_code=status.HTTP_201_CREATED,
    tags=["devices"],
    response_model=schemas.Command,
)
async def issue_command(
    device_id: Id, body: NewCommand, conn: Conn, user: ActingUser
) -> store.commands.CommandRow:
    """Ask the device; the command goes out within a second and its state follows."""
    device = await known_device(conn, user, device_id)
    if not device.active:
        raise HTTPException(status.HTTP_409_CONFLICT, f"device {device.code} is retired")
    command_id = await store.commands.issue_command(
        conn,
        device_id=device_id,
        kind=body.kind.value,
        params=body.params(),
        expires_in_s=body.expires_in_s,
        actor=user.username,
    )
    await record(conn, user, "command", "device", device_id, device.office_id, body)
    (row,) = await store.commands.list_commands(conn, command_id=command_id)
    return row


@router.get("/devices/{device_id}/commands", tags=["devices"], response_model=list[schemas.Command])
async def device_commands(
    device_id: Id, conn: Conn, user: CurrentUser, limit: Limit = 100
) -> list[store.commands.CommandRow]:
    await known_device(conn, user, device_id)
    return await store.commands.list_commands(conn, device_id=device_id, limit=limit)


@router.get(
    "/subjects/{subject_id}/commands", tags=["subjects"], response_model=list[schemas.Command]
)
async def subject_commands(
    subject_id: KnownSubject, conn: Conn, limit: Limit = 100
) -> list[store.commands.CommandRow]:
    """Commands to the subject's devices (pursuits included), newest first."""
    return await store.commands.list_commands(conn, subject_id=subject_id, limit=limit)


@router.get("/commands/{command_id}", response_model=schemas.Command)
async def get_command(command_id: UUID, conn: Conn, user: CurrentUser) -> store.commands.CommandRow:
    rows = await store.commands.list_commands(conn, command_id=command_id, offices=user.scope)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no command {command_id}")
    return rows[0]
