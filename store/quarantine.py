"""Input that was rejected: kept with its reason, topic and raw bytes, never dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import Rejected


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    id: int
    received_at: datetime
    topic: str
    payload: bytes
    reason: str


async def quarantine(conn: AsyncConnection[Any], rejected: list[Rejected]) -> None:
    if not rejected:
        return
    async with conn.cursor().copy("COPY quarantine (topic, payload, reason) FROM STDIN") as copy:
        for r in rejected:
            await copy.write_row((storable(r.topic), r.payload, storable(r.reason)))


def storable(text: str) -> str:
    """`text` as PostgreSQL can keep it: a reason quoting what a device sent may hold NUL
    (which text cannot) or lone surrogates (which UTF-8 cannot); both are escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\0", "\\x00")


async def list_quarantine(
    conn: AsyncConnection[Any],
    *,
    limit: int,
    quarantine_id: int | None = None,
    topic: str | None = None,
) -> list[QuarantineRow]:
    """Newest first; `topic`: only input on this topic."""
    cur = conn.cursor(row_factory=class_row(QuarantineRow))
    await cur.execute(
        "SELECT id, received_at, topic, payload, reason FROM quarantine"
        " WHERE (%(id)s::bigint IS NULL OR id = %(id)s)"
        " AND (%(topic)s::text IS NULL OR topic = %(topic)s) ORDER BY id DESC LIMIT %(limit)s",
        {"id": quarantine_id, "topic": topic, "limit": limit},
    )
    return await cur.fetchall()
