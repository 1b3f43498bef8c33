"""Alerts as the duty officer's queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

import store
from api.auth import CurrentUser
from api.deps import Conn
from domain import AlertState

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
async def list_alerts(
    conn: Conn,
    _user: CurrentUser,
    state: Annotated[list[AlertState], Query()] = [AlertState.OPEN],  # noqa: B006
    subject_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[store.AlertRow]:
    """Alerts in the given states (default: open), critical first, then newest."""
    return await store.list_alerts(conn, states=state, subject_id=subject_id, limit=limit)
