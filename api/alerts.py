"""Alerts as the duty officer's queue, and the steps officers take on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

import alerts
import store
from api import schemas
from api.auth import ActingUser, CurrentUser
from api.deps import Conn, Id, Lang
from api.principal import Principal
from api.reads import Purpose, on_record
from domain import AlertKind, AlertState, Language

router = APIRouter(prefix="/alerts", tags=["alerts"])


class Step(BaseModel):
    """A note is required to resolve or dismiss a critical alert, and for a plain note."""

    note: Annotated[str | None, Field(max_length=4000)] = None


@router.get("", response_model=list[schemas.Alert])
async def list_alerts(
    conn: Conn,
    user: CurrentUser,
    state: Annotated[list[AlertState], Query()] = [AlertState.OPEN],  # noqa: B006
    kind: Annotated[list[AlertKind] | None, Query()] = None,
    subject_id: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    language: Lang = "en",
) -> list[store.alerts.AlertRow]:
    """Alerts of the caller's offices in the given states (default: open), critical first,
    then newest."""
    rows = await store.alerts.list_alerts(
        conn, states=state, kinds=kind, subject_id=subject_id, limit=limit, offices=user.scope
    )
    return [schemas.localised(row, language) for row in rows]


@router.get("/{alert_id}", response_model=schemas.Alert)
async def get_alert(
    alert_id: Id, conn: Conn, user: CurrentUser, language: Lang = "en"
) -> store.alerts.AlertRow:
    """One alert of the caller's offices (404 for another office's: not told apart)."""
    alert = await store.alerts.get_alert(conn, alert_id=alert_id, offices=user.scope)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    alert = schemas.localised(alert, language)
    return alert


class AlertLocation(BaseModel):
    alert_id: Id
    subject_id: Id
    fix_time: datetime | None = Field(description="when the fix that raised it was taken")
    lon: float | None = Field(description="WGS-84; none for an alert of no place")
    lat: float | None


@router.get("/{alert_id}/location")
async def alert_location(
    alert_id: Id, purpose: Purpose, conn: Conn, user: CurrentUser
) -> AlertLocation:
    """Where the alert happened (the fix that raised it). A location read: recorded with
    who, whose and why before it is sent."""
    alert = await get_alert(alert_id, conn, user)
    await on_record(
        conn,
        user,
        what="alert",
        purpose=purpose,
        fixes=0 if alert.lon is None else 1,
        subject_id=alert.subject_id,
    )
    return AlertLocation(
        alert_id=alert.id,
        subject_id=alert.subject_id,
        fix_time=alert.fix_time,
        lon=alert.lon,
        lat=alert.lat,
    )


@router.get("/{alert_id}/events", response_model=list[schemas.AlertEvent])
async def alert_events(
    alert_id: Id, conn: Conn, user: CurrentUser
) -> list[store.alerts.AlertEventRow]:
    """The alert's whole history, oldest first: opened, repeats, cleared, each step."""
    await get_alert(alert_id, conn, user)
    return await store.alerts.alert_events(conn, alert_id=alert_id)


async def _step(
    alert_id: Id,
    action: alerts.Action,
    step: Step,
    conn: Conn,
    user: Principal,
    language: Language,
) -> store.alerts.AlertRow:
    await get_alert(alert_id, conn, user)  # 404 unless it is the caller's offices'
    try:
        changed = await alerts.act(
            conn, alert_id=alert_id, action=action, actor=user.username, note=step.note
        )
        return schemas.localised(changed, language)
    except alerts.AlertNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except alerts.WrongStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except alerts.NoteRequiredError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/{alert_id}/acknowledge", response_model=schemas.Alert)
async def acknowledge(
    alert_id: Id, conn: Conn, user: ActingUser, language: Lang, step: Step | None = None
) -> store.alerts.AlertRow:
    """I have seen it and am on it."""
    return await _step(alert_id, alerts.Action.ACKNOWLEDGE, step or Step(), conn, user, language)


@router.post("/{alert_id}/resolve", response_model=schemas.Alert)
async def resolve(
    alert_id: Id, step: Step, conn: Conn, user: ActingUser, language: Lang
) -> store.alerts.AlertRow:
    """Handled; the note says how (required for a critical alert)."""
    return await _step(alert_id, alerts.Action.RESOLVE, step, conn, user, language)


@router.post("/{alert_id}/dismiss", response_model=schemas.Alert)
async def dismiss(
    alert_id: Id, step: Step, conn: Conn, user: ActingUser, language: Lang
) -> store.alerts.AlertRow:
    """A false alarm; the note says why (required for a critical alert)."""
    return await _step(alert_id, alerts.Action.DISMISS, step, conn, user, language)


@router.post("/{alert_id}/notes", response_model=schemas.Alert)
async def add_note(
    alert_id: Id, step: Step, conn: Conn, user: ActingUser, language: Lang
) -> store.alerts.AlertRow:
    """A note on the record, in any state."""
    return await _step(alert_id, alerts.Action.NOTE, step, conn, user, language)
