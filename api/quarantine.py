"""Rejected input, for the admin who has to find out why a device's fixes are not arriving."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

import store
from api.auth import CurrentUser
from api.deps import Conn

router = APIRouter(prefix="/quarantine", tags=["quarantine"])


class QuarantinedInput(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str
    payload_text: str  # the raw bytes as UTF-8, undecodable bytes replaced
    payload_base64: str  # the raw bytes exactly


@router.get("")
async def list_quarantine(
    conn: Conn, _user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[QuarantinedInput]:
    """Newest first."""
    return [
        QuarantinedInput(
            id=r.id,
            received_at=r.received_at,
            topic=r.topic,
            reason=r.reason,
            payload_text=r.payload.decode("utf-8", errors="replace"),
            payload_base64=base64.b64encode(r.payload).decode("ascii"),
        )
        for r in await store.list_quarantine(conn, limit=limit)
    ]
