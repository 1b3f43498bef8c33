"""Rejected input, for the admin who has to find out why a device's fixes are not arriving."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

import store
from api.auth import Admin
from api.deps import Conn

router = APIRouter(prefix="/quarantine", tags=["quarantine"])


class QuarantinedInput(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str
    payload_text: str  # the raw bytes as UTF-8, undecodable bytes replaced
    payload_base64: str  # the raw bytes exactly


def _shown(row: store.QuarantineRow) -> QuarantinedInput:
    return QuarantinedInput(
        id=row.id,
        received_at=row.received_at,
        topic=row.topic,
        reason=row.reason,
        payload_text=row.payload.decode("utf-8", errors="replace"),
        payload_base64=base64.b64encode(row.payload).decode("ascii"),
    )


@router.get("")
async def list_quarantine(
    conn: Conn,
    _user: Admin,
    topic: str | None = Query(default=None, description="only input on this topic"),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[QuarantinedInput]:
    """Newest first. Admins only: a payload may hold a position of anyone."""
    return [_shown(r) for r in await store.list_quarantine(conn, limit=limit, topic=topic)]


@router.get("/{quarantine_id}")
async def inspect_quarantine(quarantine_id: int, conn: Conn, _user: Admin) -> QuarantinedInput:
    rows = await store.list_quarantine(conn, limit=1, quarantine_id=quarantine_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no quarantined input {quarantine_id}")
    return _shown(rows[0])
