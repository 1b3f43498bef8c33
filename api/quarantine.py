"""Rejected input, for the admin who has to find out why a device's fixes are not arriving."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

import store
from api.auth import Admin
from api.deps import Conn, Id
from api.reads import Purpose, on_record

router = APIRouter(prefix="/quarantine", tags=["quarantine"])


_PREVIEW_CHARS = 200


class QuarantinedSummary(BaseModel):
    """One row of the list: what, when, why, and the payload's size and beginning."""

    id: int
    received_at: datetime
    topic: str
    reason: str
    payload_bytes: int
    payload_preview: str = Field(description="its first 200 characters (UTF-8, bad bytes replaced)")


class QuarantinedInput(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str
    payload_text: str  # the raw bytes as UTF-8, undecodable bytes replaced
    payload_base64: str  # the raw bytes exactly


def _summary(row: store.quarantine.QuarantineRow) -> QuarantinedSummary:
    return QuarantinedSummary(
        id=row.id,
        received_at=row.received_at,
        topic=row.topic,
        reason=row.reason,
        payload_bytes=len(row.payload),
        payload_preview=row.payload[: _PREVIEW_CHARS * 4].decode("utf-8", errors="replace")[
            :_PREVIEW_CHARS
        ],
    )


def _shown(row: store.quarantine.QuarantineRow) -> QuarantinedInput:
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
    user: Admin,
    purpose: Purpose,
    topic: str | None = Query(default=None, description="only input on this topic"),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[QuarantinedSummary]:
    """Newest first, each payload's size and beginning (the whole of one at
    /quarantine/{id}). Admins only, and a location read: a payload may hold a position of
    anyone."""
    rows = await store.quarantine.list_quarantine(conn, limit=limit, topic=topic)
    await on_record(conn, user, what="quarantine", purpose=purpose, fixes=len(rows))
    return [_summary(r) for r in rows]


@router.get("/{quarantine_id}")
async def inspect_quarantine(
    quarantine_id: Id, conn: Conn, user: Admin, purpose: Purpose
) -> QuarantinedInput:
    """One quarantined message whole; a recorded read, as the list."""
    rows = await store.quarantine.list_quarantine(conn, limit=1, quarantine_id=quarantine_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no quarantined input {quarantine_id}")
    await on_record(conn, user, what="quarantine", purpose=purpose, fixes=1)
    return _shown(rows[0])
