"""The delivery outbox: every alert event enqueues what must go out in the same transaction
as the event; delivery workers claim due rows, and record each attempt's outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import AlertAction, AlertKind, Severity

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import AlertNotice

# What must go out about one alert event, in one statement: a webhook row per matching
# active subscription (of the alert's office or an office above it, the kind, the severity
# at least), and a text message per on-duty officer (not disabled) of the subject's office for
# a new high or critical alert, and per supervisor of the office for an escalation.
_ENQUEUE = """
WITH RECURSIVE above (id, parent_id) AS (
    SELECT o.id, o.parent_id FROM offices o WHERE o.id = %(office)s
    UNION ALL
    SELECT o.id, o.parent_id FROM offices o JOIN above ON o.id = above.parent_id
), hooks AS (
    INSERT INTO outbox (event_id, channel, subscription_id, body)
    SELECT %(event)s, 'webhook', w.id, %(body)s FROM webhook_subscriptions w
    WHERE w.active
      AND (w.office_id IS NULL OR w.office_id IN (SELECT id FROM above))
      AND (w.kinds IS NULL OR %(kind)s = ANY (w.kinds))
      AND %(rank)s >= CASE w.min_severity WHEN 'critical' THEN 3 WHEN 'high' THEN 2 ELSE 1 END
)
INSERT INTO outbox (event_id, channel, phone, body)
SELECT DISTINCT ON (u.phone) %(event)s, 'sms', u.phone, %(body)s FROM users u
WHERE u.office_id = %(office)s AND u.phone IS NOT NULL AND u.disabled_at IS NULL
  AND ((%(action)s = 'opened' AND %(rank)s >= 2 AND u.on_duty)
       OR (%(action)s = 'escalated' AND u.role = 'supervisor'))
"""
_RANK = {Severity.CRITICAL: 3, Severity.HIGH: 2, Severity.NORMAL: 1}

# The protected person who opted in is warned when a subject is found near them or heading
# their way: a body of its own, which holds no position and names nobody.
_WARN_PROTECTED = """
INSERT INTO outbox (event_id, channel, phone, body)
SELECT %(event)s, 'sms', pp.phone, jsonb_build_object('warning', jsonb_build_object(
    'kind', a.kind, 'alert_id', a.id, 'distance_m', p.distance_m, 'language', pp.language))
FROM alerts a JOIN prohibitions p ON p.id = a.prohibition_id
JOIN protected_persons pp ON pp.id = p.protected_person_id
WHERE a.id = %(alert)s AND pp.sms_opt_in AND pp.phone IS NOT NULL
ON CONFLICT DO NOTHING
"""
_WARNED = frozenset({AlertKind.PROTECTED_PERSON_PROXIMITY, AlertKind.APPROACHING})


async def enqueue(conn: AsyncConnection[Any], notice: AlertNotice, body: dict[str, Any]) -> None:
    """Queue `body` for everyone who must hear of the event, in the event's transaction:
    nothing is sent that was not committed, and nothing committed is left unsent."""
    await conn.execute(
        _ENQUEUE,
        {
            "office": notice.office_id,
            "event": notice.event_id,
            "body": Jsonb(body),
            "kind": notice.kind.value,
            "rank": _RANK[notice.severity],
            "action": notice.action.value,
        },
    )
    if notice.kind in _WARNED and notice.action is AlertAction.OPENED:
        await conn.execute(_WARN_PROTECTED, {"event": notice.event_id, "alert": notice.alert_id})


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed outbox row: what to send, where, and how many times it was tried."""

    id: int
    event_id: int
    channel: str
    subscription_id: int | None
    url: str | None
    secret: str | None
    phone: str | None
    body: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """An outbox row as the API shows it (no secret)."""

    id: int
    event_id: int
    channel: str
    subscription_id: int | None
    url: str | None
    phone: str | None
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


async def claim_deliveries(
    conn: AsyncConnection[Any], *, limit: int, lease_s: float, busy: list[int]
) -> list[Delivery]:
    """Take up to `limit` due rows (oldest due first), skipping subscriptions in `busy`, and
    lease them for `lease_s`: a worker that dies meanwhile leaves them due again, to be sent
    again with the same ids."""
    cur = conn.cursor(row_factory=class_row(Delivery))
    await cur.execute(
        "WITH due AS (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= now()"
        " AND (subscription_id IS NULL OR subscription_id <> ALL (%s::bigint[]))"
        " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED),"
        " leased AS (UPDATE outbox o SET next_attempt_at = now() + make_interval(secs => %s)"
        " FROM due WHERE o.id = due.id RETURNING o.*)"
        " SELECT l.id, l.event_id, l.channel, l.subscription_id, w.url, w.secret, l.phone,"
        " l.body, l.attempts, l.created_at"
        " FROM leased l LEFT JOIN webhook_subscriptions w ON w.id = l.subscription_id",
        (busy, limit, lease_s),
    )
    return await cur.fetchall()


async def record_outcomes(
    conn: AsyncConnection[Any],
    *,
    delivered: list[int],
    retry: list[tuple[int, str, float]],
    dead: list[tuple[int, str]],
) -> None:
    """Many attempts' outcomes in at most three statements: delivered ids; (id, error, retry
    in s); (id, error) given up on. A delivery suppressed while its attempt was in flight
    (its webhook stopped) stays suppressed, with the reason, the attempt counted."""
    if delivered:
        await conn.execute(
            "UPDATE outbox SET state = 'delivered', delivered_at = now(),"
            " attempts = attempts + 1, last_error = NULL WHERE id = ANY (%s)",
            (delivered,),
        )
    if retry:
        await conn.execute(
            "UPDATE outbox o SET attempts = o.attempts + 1,"
            " last_error = CASE WHEN o.state = 'pending' THEN r.error ELSE o.last_error END,"
            " next_attempt_at = now() + make_interval(secs => r.delay)"
            " FROM unnest(%s::bigint[], %s::text[], %s::float8[]) AS r (id, error, delay)"
            " WHERE o.id = r.id",
            ([r[0] for r in retry], [r[1] for r in retry], [r[2] for r in retry]),
        )
    if dead:
        await conn.execute(
            "UPDATE outbox o SET attempts = o.attempts + 1,"
            " state = CASE WHEN o.state = 'pending' THEN 'dead' ELSE o.state END,"
            " last_error = CASE WHEN o.state = 'pending' THEN r.error ELSE o.last_error END"
            " FROM unnest(%s::bigint[], %s::text[]) AS r (id, error) WHERE o.id = r.id",
            ([d[0] for d in dead], [d[1] for d in dead]),
        )


async def suppress(conn: AsyncConnection[Any], *, outbox_id: int, reason: str) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'suppressed', last_error = %s WHERE id = %s",
        (reason, outbox_id),
    )


async def texts_sent(conn: AsyncConnection[Any], *, phone: str, within_s: float) -> int:
    """Text messages delivered to `phone` in the last `within_s` seconds."""
    cur = await conn.execute(
        "SELECT count(*) FROM outbox WHERE channel = 'sms' AND phone = %s"
        " AND delivered_at > now() - make_interval(secs => %s)",
        (phone, within_s),
    )
    row = await cur.fetchone()
    return 0 if row is None else int(row[0])


_ROW = (
    "SELECT o.id, o.event_id, o.channel, o.subscription_id, w.url, o.phone, o.state,"
    " o.attempts, o.next_attempt_at, o.last_error, o.delivered_at, o.created_at"
    " FROM outbox o LEFT JOIN webhook_subscriptions w ON w.id = o.subscription_id"
)


async def list_deliveries(
    conn: AsyncConnection[Any], *, state: str | None, limit: int
) -> list[DeliveryRow]:
    """Newest first; `state` 'dead' lists the dead letters."""
    cur = conn.cursor(row_factory=class_row(DeliveryRow))
    await cur.execute(
        _ROW + " WHERE (%s::text IS NULL OR o.state = %s) ORDER BY o.id DESC LIMIT %s",
        (state, state, limit),
    )
    return await cur.fetchall()


async def get_delivery(conn: AsyncConnection[Any], *, outbox_id: int) -> DeliveryRow | None:
    cur = conn.cursor(row_factory=class_row(DeliveryRow))
    await cur.execute(_ROW + " WHERE o.id = %s", (outbox_id,))
    return await cur.fetchone()


async def resend(conn: AsyncConnection[Any], *, outbox_id: int) -> DeliveryRow | None:
    """Put a dead or suppressed delivery back in the queue, due now (same id: a receiver
    that got it before can drop it); None if it is neither."""
    cur = await conn.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = now()"
        " WHERE id = %s AND state IN ('dead', 'suppressed') RETURNING id",
        (outbox_id,),
    )
    if await cur.fetchone() is None:
        return None
    return await get_delivery(conn, outbox_id=outbox_id)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the outbox: due now or later, and how long the oldest due one waits."""

    pending: int
    oldest_due_s: float
    dead: int


async def delivery_backlog(conn: AsyncConnection[Any]) -> Backlog:
    cur = await conn.execute(
        "SELECT count(*) FILTER (WHERE state = 'pending'),"
        " COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)"
        "   FILTER (WHERE state = 'pending' AND next_attempt_at <= now())), 0),"
        " count(*) FILTER (WHERE state = 'dead') FROM outbox"
    )
    row = await cur.fetchone()
    assert row is not None
    return Backlog(int(row[0]), float(row[1]), int(row[2]))
