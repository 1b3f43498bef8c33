"""Monitoring orders (Art. 29: approved, at most 3 months a period, renewable after review)
and leaves (Art. 27, 请假: requested by an officer, decided by a supervisor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

import store
from api import schemas
from api.auth import ActingUser, CurrentUser, Manager
from api.changes import record
from api.deps import Conn, Id
from api.principal import Principal
from api.subjects import KnownSubject
from domain import LeaveState, OrderError

router = APIRouter(tags=["orders and leaves"])

Text = Annotated[str, Field(min_length=1, max_length=500)]


class NewOrder(BaseModel):
    approved_by: Text = Field(description="who approved it (the county justice bureau's head)")
    reason: Text = Field(description="which of Art. 29's situations applies, and why")
    starts_at: AwareDatetime
    ends_at: AwareDatetime = Field(description="at most 3 months after starts_at")


class NewExtension(BaseModel):
    approved_by: Text
    reason: Text = Field(description="the review's finding")
    ends_at: AwareDatetime = Field(description="at most 3 months after the current end")


def _refused(exc: OrderError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


async def _order(conn: Conn, subject_id: Id, order_id: Id) -> store.orders.OrderRow:
    (order,) = await store.orders.list_orders(conn, subject_id=subject_id, order_id=order_id)
    return order


@router.get("/subjects/{subject_id}/orders", tags=["subjects"], response_model=list[schemas.Order])
async def list_orders(subject_id: KnownSubject, conn: Conn) -> list[store.orders.OrderRow]:
    """The subject's monitoring orders with their extensions, oldest first."""
    return await store.orders.list_orders(conn, subject_id=subject_id)


@router.post(
    "/subjects/{subject_id}/orders",
    status_code=status.HTTP_201_CREATED,
    tags=["subjects"],
    response_model=schemas.Order,
)
async def create_order(
    subject_id: KnownSubject, body: NewOrder, conn: Conn, user: Manager
) -> store.orders.OrderRow:
    """Record an approved order: fixes of the subject are stored only within one."""
    try:
        order_id = await store.orders.create_order(
            conn,
            subject_id=subject_id,
            approved_by=body.approved_by,
            reason=body.reason,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            actor=user.username,
        )
    except OrderError as exc:
        raise _refused(exc) from None
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "create", "order", order_id, office, body)
    return await _order(conn, subject_id, order_id)


@router.post(
    "/orders/{order_id}/extensions",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Order,
)
async def extend_order(
    order_id: Id, body: NewExtension, conn: Conn, user: Manager
) -> store.orders.OrderRow:
    """Extend an order from its current end, after review."""
    subject_id = await store.orders.order_subject(conn, order_id=order_id)
    if subject_id is None or not await store.subjects.subject_exists(
        conn, subject_id=subject_id, offices=user.scope
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
    try:
        await store.orders.extend_order(
            conn,
            order_id=order_id,
            approved_by=body.approved_by,
            reason=body.reason,
            ends_at=body.ends_at,
            actor=user.username,
        )
    except OrderError as exc:
        raise _refused(exc) from None
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "extend", "order", order_id, office, body)
    return await _order(conn, subject_id, order_id)


# Leaves -----------------------------------------------------------------------------------


class NewLeave(BaseModel):
    destination_zone_id: Id = Field(description="where the subject may be meanwhile")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Text


class Decision(BaseModel):
    note: str | None = Field(default=None, max_length=2000, description="why, for the record")


@router.get("/leaves", response_model=list[schemas.Leave])
async def list_leaves(
    conn: Conn,
    user: CurrentUser,
    state: LeaveState | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[store.leaves.LeaveRow]:
    """Leaves of the caller's offices' subjects, newest request first (`state=requested`:
    those waiting for a decision)."""
    return await store.leaves.list_leaves(
        conn, offices=user.scope, state=None if state is None else state.value, limit=limit
    )


@router.get("/subjects/{subject_id}/leaves", tags=["subjects"], response_model=list[schemas.Leave])
async def subject_leaves(subject_id: KnownSubject, conn: Conn) -> list[store.leaves.LeaveRow]:
    return await store.leaves.list_leaves(conn, offices=None, subject_id=subject_id)


@router.post(
    "/subjects/{subject_id}/leaves",
    status_code=status.HTTP_201_CREATED,
    tags=["subjects"],
    response_model=schemas.Leave,
)
async def request_leave(
    subject_id: KnownSubject, body: NewLeave, conn: Conn, user: ActingUser
) -> store.leaves.LeaveRow:
    """Request a leave for the subject; a supervisor approves or rejects it."""
    zones = await store.zones.list_zones(conn, offices=user.scope, zone_id=body.destination_zone_id)
    if not zones:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"no zone {body.destination_zone_id}"
        )
    try:
        leave_id = await store.leaves.request_leave(
            conn,
            subject_id=subject_id,
            destination_zone_id=body.destination_zone_id,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            reason=body.reason,
            actor=user.username,
        )
    except OrderError as exc:
        raise _refused(exc) from None
    office = await store.subjects.subject_office(conn, subject_id=subject_id)
    await record(conn, user, "request", "leave", leave_id, office, body)
    return await _leave(conn, user, leave_id)


async def _leave(conn: Conn, user: Principal, leave_id: Id) -> store.leaves.LeaveRow:
    rows = await store.leaves.list_leaves(conn, offices=user.scope, leave_id=leave_id)
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no leave {leave_id}")
    return rows[0]


async def _decide(
    conn: Conn, user: Principal, leave_id: Id, body: Decision, approve: bool
) -> store.leaves.LeaveRow:
    leave = await _leave(conn, user, leave_id)
    try:
        await store.leaves.decide_leave(
            conn, leave_id=leave_id, approve=approve, actor=user.username
        )
    except OrderError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    office = await store.subjects.subject_office(conn, subject_id=leave.subject_id)
    await record(conn, user, "approve" if approve else "reject", "leave", leave_id, office, body)
    return await _leave(conn, user, leave_id)


@router.post("/leaves/{leave_id}/approve", response_model=schemas.Leave)
async def approve_leave(
    leave_id: Id, conn: Conn, user: Manager, body: Decision | None = None
) -> store.leaves.LeaveRow:
    """Approve: the destination applies for exactly the leave's window, the subject's other
    inclusion zones are suspended meanwhile, and being late back is an alert."""
    return await _decide(conn, user, leave_id, body or Decision(), approve=True)


@router.post("/leaves/{leave_id}/reject", response_model=schemas.Leave)
async def reject_leave(
    leave_id: Id, conn: Conn, user: Manager, body: Decision | None = None
) -> store.leaves.LeaveRow:
    return await _decide(conn, user, leave_id, body or Decision(), approve=False)
