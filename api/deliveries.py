"""Webhook subscriptions, and the deliveries of alert events (dead letters, resend)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import AnyHttpUrl, BaseModel, Field

import store
from api import schemas
from api.auth import Admin
from api.changes import record
from api.deps import Conn, Id, services
from domain import AlertKind, Severity

router = APIRouter(tags=["delivery"])


class NewSubscription(BaseModel):
    url: AnyHttpUrl
    office_id: Id | None = Field(
        default=None, description="this office and the offices under it; unset: every office"
    )
    kinds: list[AlertKind] | None = Field(default=None, description="unset: every kind")
    min_severity: Severity = Severity.NORMAL
    secret: Annotated[str | None, Field(min_length=16, max_length=200)] = Field(
        default=None, description="the HMAC key; unset: one is generated and returned once"
    )


class CreatedSubscription(BaseModel):
    subscription: schemas.Subscription
    secret: str = Field(description="shown only now: verify X-Ccmon-Signature with it")


@router.post("/webhooks", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    new: NewSubscription, conn: Conn, user: Admin, request: Request
) -> CreatedSubscription:
    """Subscribe a URL to alert events (every change of every matching alert). A URL that
    reaches inside (loopback, private, link-local, ...) is refused unless the operator
    allows its network."""
    destinations = services(request.app).destinations
    refusal = await destinations.refusal(str(new.url))
    if refusal is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, refusal)
    secret = new.secret or secrets.token_urlsafe(32)
    row = await store.subscriptions.create_subscription(
        conn,
        url=str(new.url),
        secret=secret,
        office_id=new.office_id,
        kinds=None if new.kinds is None else [k.value for k in new.kinds],
        min_severity=new.min_severity.value,
        actor=user.username,
    )
    await record(conn, user, "create", "webhook", row.id, new.office_id, new, exclude={"secret"})
    return CreatedSubscription(subscription=schemas.Subscription.model_validate(row), secret=secret)


@router.get("/webhooks", response_model=list[schemas.Subscription])
async def list_webhooks(conn: Conn, _user: Admin) -> list[store.subscriptions.SubscriptionRow]:
    return await store.subscriptions.list_subscriptions(conn)


@router.delete("/webhooks/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def stop_webhook(subscription_id: Id, conn: Conn, user: Admin) -> None:
    """Stop sending to it; what was sent stays on record."""
    if not await store.subscriptions.deactivate_subscription(conn, subscription_id=subscription_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no webhook subscription {subscription_id}")
    await record(conn, user, "stop", "webhook", subscription_id, None)


@router.get("/deliveries", response_model=list[schemas.Delivery])
async def list_deliveries(
    conn: Conn,
    _user: Admin,
    state: Literal["pending", "delivered", "dead", "suppressed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[store.outbox.DeliveryRow]:
    """Newest first, with attempts and the last error; `state=dead` lists dead letters."""
    return await store.outbox.list_deliveries(conn, state=state, limit=limit)


@router.post("/deliveries/{delivery_id}/resend", response_model=schemas.Delivery)
async def resend(delivery_id: Id, conn: Conn, user: Admin) -> store.outbox.DeliveryRow:
    """Queue a dead or suppressed delivery again, due now, with the same ids."""
    row = await store.outbox.resend(conn, outbox_id=delivery_id)
    if row is not None:
        await record(conn, user, "resend", "delivery", delivery_id, None)
        return row
    existing = await store.outbox.get_delivery(conn, outbox_id=delivery_id)
    if existing is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no delivery {delivery_id}")
    raise HTTPException(
        status.HTTP_409_CONFLICT,
        f"delivery {delivery_id} is {existing.state}: only dead or suppressed ones are resent",
    )
