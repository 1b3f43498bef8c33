"""Webhook subscriptions: who receives which alert events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """A subscription as the API shows it: never its secret."""

    id: int
    office_id: int | None
    url: str
    kinds: list[str] | None
    min_severity: str
    active: bool
    created_by: str
    created_at: datetime


_COLUMNS = "id, office_id, url, kinds, min_severity, active, created_by, created_at"


async def create_subscription(
    conn: AsyncConnection[Any],
    *,
    url: str,
    secret: str,
    office_id: int | None,
    kinds: list[str] | None,
    min_severity: str,
    actor: str,
) -> SubscriptionRow:
    cur = conn.cursor(row_factory=class_row(SubscriptionRow))
    await cur.execute(
        "INSERT INTO webhook_subscriptions"
        " (url, secret, office_id, kinds, min_severity, created_by)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (url, secret, office_id, kinds, min_severity, actor),
    )
    row = await cur.fetchone()
    assert row is not None, "INSERT ... RETURNING returns its row"
    return row


async def list_subscriptions(conn: AsyncConnection[Any]) -> list[SubscriptionRow]:
    cur = conn.cursor(row_factory=class_row(SubscriptionRow))
    await cur.execute(f"SELECT {_COLUMNS} FROM webhook_subscriptions ORDER BY id")
    return await cur.fetchall()


async def deactivate_subscription(conn: AsyncConnection[Any], *, subscription_id: int) -> bool:
    """Stop sending to it (kept, with what was sent to it), its queued deliveries and
    retries too (suppressed, with the reason); False if there is none."""
    cur = await conn.execute(
        "UPDATE webhook_subscriptions SET active = false WHERE id = %s", (subscription_id,)
    )
    await conn.execute(
        "UPDATE outbox SET state = 'suppressed', last_error = 'the webhook was stopped'"
        " WHERE subscription_id = %s AND state = 'pending'",
        (subscription_id,),
    )
    return cur.rowcount == 1
