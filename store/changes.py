"""The change log: every change people make through the API, append-only, for the auditors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    at: datetime
    username: str
    action: str
    target: str
    target_id: int | None
    office_id: int | None
    detail: dict[str, Any]


async def record_change(
    conn: AsyncConnection[Any],
    *,
    username: str,
    action: str,
    target: str,
    target_id: int | None,
    office_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write who changed what, in the change's own transaction."""
    await conn.execute(
        "INSERT INTO changes (username, action, target, target_id, office_id, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (username, action, target, target_id, office_id, Jsonb(detail or {})),
    )


async def list_changes(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    target: str | None = None,
    target_id: int | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
) -> list[ChangeRow]:
    """Changes concerning these offices (county-wide ones only for a county-wide scope),
    newest first."""
    cur = conn.cursor(row_factory=class_row(ChangeRow))
    await cur.execute(
        "SELECT id, at, username, action, target, target_id, office_id, detail FROM changes"
        " WHERE "
        + in_offices("office_id")
        + " AND (%(target)s::text IS NULL OR target = %(target)s)"
        " AND (%(target_id)s::bigint IS NULL OR target_id = %(target_id)s)"
        " AND (%(username)s::text IS NULL OR username = %(username)s)"
        " AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR at < %(until)s)"
        " ORDER BY id DESC LIMIT %(limit)s",
        {
            "offices": offices,
            "target": target,
            "target_id": target_id,
            "username": username,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    return await cur.fetchall()
