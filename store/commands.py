"""Commands to devices: issued (by an officer, or by a pursuit), handed to the broker, and
what the device made of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from domain import CommandKind, CommandState, after_result
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class CommandRow:
    id: UUID
    device_id: int
    device_code: str
    subject_id: int | None
    kind: str
    params: dict[str, Any]
    state: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    alert_id: int | None
    sent_at: datetime | None
    delivered_at: datetime | None
    answered_at: datetime | None
    answer: dict[str, Any] | None
    error: str | None


_SELECT = (
    "SELECT c.id, c.device_id, d.code AS device_code, c.subject_id, c.kind, c.params, c.state,"
    " c.issued_by, c.issued_at, c.expires_at, c.alert_id, c.sent_at, c.delivered_at,"
    " c.answered_at, c.answer, c.error FROM device_commands c"
    " JOIN devices d ON d.id = c.device_id"
)


async def issue_command(
    conn: AsyncConnection[Any],
    *,
    device_id: int,
    kind: str,
    params: Mapping[str, Any],
    expires_in_s: float,
    actor: str,
    alert_id: int | None = None,
) -> UUID:
    cur = await conn.execute(
        "INSERT INTO device_commands (device_id, subject_id, kind, params, issued_by,"
        " expires_at, alert_id) SELECT id, subject_id, %s, %s, %s,"
        " now() + make_interval(secs => %s), %s FROM devices WHERE id = %s RETURNING id",
        (kind, Jsonb(dict(params)), actor, expires_in_s, alert_id, device_id),
    )
    row = await cur.fetchone()
    assert row is not None, "the caller checked the device"
    return UUID(str(row[0]))


async def list_commands(
    conn: AsyncConnection[Any],
    *,
    device_id: int | None = None,
    subject_id: int | None = None,
    command_id: UUID | None = None,
    offices: Sequence[int] | None = None,
    limit: int = 100,
) -> list[CommandRow]:
    """Newest first; a command of a device held by another office is not listed."""
    cur = conn.cursor(row_factory=class_row(CommandRow))
    await cur.execute(
        _SELECT + " WHERE (%(device)s::bigint IS NULL OR c.device_id = %(device)s)"
        " AND (%(subject)s::bigint IS NULL OR c.subject_id = %(subject)s)"
        " AND (%(id)s::uuid IS NULL OR c.id = %(id)s)"
        " AND " + in_offices("d.office_id") + " ORDER BY c.issued_at DESC LIMIT %(limit)s",
        {
            "device": device_id,
            "subject": subject_id,
            "id": command_id,
            "offices": offices,
            "limit": limit,
        },
    )
    return await cur.fetchall()


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A command to hand to the broker, with where its device listens."""

    id: UUID
    device_code: str
    owntracks_topic: str | None
    kind: str
    params: dict[str, Any]
    expires_at: datetime


async def claim_pending(conn: AsyncConnection[Any], *, limit: int) -> list[Outgoing]:
    """Pending commands, oldest first, locked for the caller's transaction (another process
    sending skips them); mark each with `mark_sent` or `fail` before committing."""
    cur = conn.cursor(row_factory=class_row(Outgoing))
    await cur.execute(
        "SELECT c.id, d.code AS device_code, d.owntracks_topic, c.kind, c.params, c.expires_at"
        " FROM device_commands c JOIN devices d ON d.id = c.device_id"
        " WHERE c.state = 'pending' ORDER BY c.issued_at LIMIT %s FOR UPDATE OF c SKIP LOCKED",
        (limit,),
    )
    return await cur.fetchall()


async def mark_sent(conn: AsyncConnection[Any], ids: Iterable[UUID]) -> None:
    await conn.execute(
        "UPDATE device_commands SET state = 'sent', sent_at = now() WHERE id = ANY(%s)",
        (list(ids),),
    )


async def fail_command(conn: AsyncConnection[Any], *, command_id: UUID, error: str) -> None:
    await conn.execute(
        "UPDATE device_commands SET state = 'failed', error = %s WHERE id = %s",
        (error, command_id),
    )


async def record_result(
    conn: AsyncConnection[Any],
    *,
    device_code: str,
    command_id: UUID,
    status: CommandState,
    answer: Mapping[str, Any] | None,
    error: str | None,
) -> bool:
    """What the device says of its command, moved on by `domain.after_result`; a command
    that has ended, or is not this device's, is left alone (False)."""
    cur = await conn.execute(
        "SELECT c.kind, c.state FROM device_commands c JOIN devices d ON d.id = c.device_id"
        " WHERE c.id = %s AND d.code = %s FOR UPDATE OF c",
        (command_id, device_code),
    )
    row = await cur.fetchone()
    to = None if row is None else after_result(CommandKind(row[0]), CommandState(row[1]), status)
    if to is None:
        return False
    await conn.execute(
        "UPDATE device_commands SET state = %(to)s,"
        " delivered_at = COALESCE(delivered_at, now()),"
        " answered_at = CASE WHEN %(to)s = 'answered' THEN now() END,"
        " answer = CASE WHEN %(status)s = 'answered' THEN COALESCE(%(answer)s::jsonb, '{}')"
        "  WHEN %(status)s = 'failed' THEN NULL ELSE answer END,"
        " error = CASE WHEN %(status)s = 'delivered' THEN error ELSE %(error)s END"
        " WHERE id = %(id)s",
        {
            "to": to.value,
            "status": status.value,
            "answer": None if answer is None else Jsonb(dict(answer)),
            "error": error,
            "id": command_id,
        },
    )
    return True


async def answer_with_fixes(conn: AsyncConnection[Any]) -> int:
    """A locate is answered by a fix received after it was sent (a device speaking only
    OwnTracks answers reportLocation so, with no result message); a check-in by such a fix
    once the device has also said it is answered."""
    cur = await conn.execute(
        "UPDATE device_commands c SET state = 'answered', answered_at = p.received_at,"
        " answer = COALESCE(c.answer, '{}') || jsonb_build_object('fix_time', p.time)"
        " FROM device_positions p WHERE c.state IN ('sent', 'delivered')"
        " AND (c.kind = 'locate' OR (c.kind = 'check_in' AND c.answer IS NOT NULL))"
        " AND p.device_id = c.device_id AND p.received_at >= c.sent_at"
    )
    return cur.rowcount


@dataclass(frozen=True, slots=True)
class Expired:
    id: UUID
    kind: str
    subject_id: int | None
    device_code: str
    error: str | None  # what the device said, if it said it failed


async def expire_commands(conn: AsyncConnection[Any]) -> list[Expired]:
    """Commands past their time and not answered: expired now."""
    cur = conn.cursor(row_factory=class_row(Expired))
    await cur.execute(
        "UPDATE device_commands c SET state = 'expired' FROM devices d"
        " WHERE d.id = c.device_id AND c.state IN ('pending', 'sent', 'delivered')"
        " AND c.expires_at < now()"
        " RETURNING c.id, c.kind, c.subject_id, d.code AS device_code, c.error"
    )
    return await cur.fetchall()


async def start_pursuits(
    conn: AsyncConnection[Any],
    *,
    alert_ids: Sequence[int],
    kinds: Iterable[str],
    rates: Mapping[str, tuple[float, float]],
) -> int:
    """For each alert of these `kinds` among `alert_ids`, switch its subject's active
    devices to their level's pursuit rate: `rates[level]` = (interval_s, at most for_s);
    and, for an alert near a protected person who consented, their phone too (at the
    subject's rate: the two positions are compared). Returns how many commands were issued."""
    if not alert_ids:
        return 0
    levels = list(rates)
    cur = await conn.execute(
        "INSERT INTO device_commands (device_id, subject_id, kind, params, issued_by,"
        " expires_at, alert_id)"
        " SELECT w.device_id, w.subject_id, 'set_interval', jsonb_build_object("
        "  'interval_s', r.interval_s, 'for_s', r.for_s,"
        "  'until', now() + make_interval(secs => r.for_s)), 'pursuit',"
        "  now() + interval '3 minutes', a.id"
        " FROM alerts a JOIN subjects s ON s.id = a.subject_id"
        " JOIN LATERAL ("
        "  SELECT d.id AS device_id, s.id AS subject_id FROM devices d"
        "  WHERE d.subject_id = s.id AND d.active"
        "  UNION ALL SELECT d.id, NULL FROM prohibitions p"
        "  JOIN protected_persons pp ON pp.id = p.protected_person_id AND pp.pursuit_consent"
        "  JOIN devices d ON d.protected_person_id = pp.id AND d.active"
        "  WHERE p.id = a.prohibition_id"
        " ) w ON true"
        " JOIN unnest(%s::text[], %s::float8[], %s::float8[]) AS r (level, interval_s, for_s)"
        "  ON r.level = s.level"
        " WHERE a.id = ANY(%s) AND a.kind = ANY(%s)",
        (
            levels,
            [rates[level][0] for level in levels],
            [rates[level][1] for level in levels],
            list(alert_ids),
            list(kinds),
        ),
    )
    return cur.rowcount


async def end_pursuit(conn: AsyncConnection[Any], *, alert_id: int, actor: str) -> int:
    """The alert was acknowledged (or closed): each device still in its pursuit goes back to
    its level's rate. Returns how many commands were issued."""
    cur = await conn.execute(
        "INSERT INTO device_commands (device_id, subject_id, kind, params, issued_by,"
        " expires_at, alert_id)"
        " SELECT DISTINCT c.device_id, c.subject_id, 'set_interval',"
        "  jsonb_build_object('interval_s', NULL), %s, now() + interval '3 minutes', c.alert_id"
        " FROM device_commands c WHERE c.alert_id = %s AND c.issued_by = 'pursuit'"
        " AND (c.params ->> 'until')::timestamptz > now()"
        " AND NOT EXISTS (SELECT 1 FROM device_commands e WHERE e.alert_id = c.alert_id"
        "  AND e.device_id = c.device_id AND e.issued_by <> 'pursuit')",
        (actor, alert_id),
    )
    return cur.rowcount
