"""Stays: the job's queue (subjects with fixes it has not looked at), where it starts again
for each, the stays it found, and a subject's stays read back.

The queue is written with the fixes (`copy_fixes`, same transaction): a fix that arrives
late, hours after its time, puts its subject back in the queue from that time. The job
starts each subject again at a point nothing before can change: the first fix of the place
they may be dwelling at now, or, for a fix older than that, the start of an earlier stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from psycopg.rows import class_row

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection

# Subjects go through the job one at a time; a second process skips the one being done.
_LOCK_CLASS = 23

MARK_PENDING = (
    "INSERT INTO stays_pending AS p (subject_id, since)"
    " SELECT subject_id, min(time) FROM fix_stage GROUP BY subject_id ORDER BY subject_id"
    " ON CONFLICT (subject_id) DO UPDATE SET since = least(p.since, excluded.since),"
    " version = p.version + 1"
)


@dataclass(frozen=True, slots=True)
class Pending:
    subject_id: int
    since: datetime  # the earliest of the fixes not looked at
    version: int


@dataclass(frozen=True, slots=True)
class StayRow:
    starts_at: datetime
    ends_at: datetime
    lon: float
    lat: float
    radius_m: float
    fixes: int
    current: bool  # the subject's last fixes are part of it: it may go on


@dataclass(frozen=True, slots=True)
class Track:
    """A subject's fixes from a time on, in order (phone and band as one track)."""

    time: np.ndarray[Any, np.dtype[np.float64]]  # epoch seconds
    lon: np.ndarray[Any, np.dtype[np.float64]]
    lat: np.ndarray[Any, np.dtype[np.float64]]
    accuracy: np.ndarray[Any, np.dtype[np.float64]]


async def pending(conn: AsyncConnection[Any], *, limit: int) -> list[Pending]:
    """Up to `limit` subjects waiting, those waiting for the oldest fixes first."""
    cur = conn.cursor(row_factory=class_row(Pending))
    await cur.execute(
        "SELECT subject_id, since, version FROM stays_pending ORDER BY since LIMIT %s", (limit,)
    )
    return await cur.fetchall()


async def take(conn: AsyncConnection[Any], *, subject_id: int) -> bool:
    """Hold the subject for this transaction; False if another process has it."""
    cur = await conn.execute(
        "SELECT pg_try_advisory_xact_lock(%s, (%s %% 2147483647)::integer)",
        (_LOCK_CLASS, subject_id),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def restart_at(
    conn: AsyncConnection[Any], *, subject_id: int, since: datetime
) -> datetime | None:
    """Where a scan must begin for the fixes from `since` on to count: the place the
    subject may be dwelling at now, if they are no older than it; else the start of the last
    stay begun before them. None: from the subject's first fix."""
    cur = await conn.execute(
        "SELECT CASE WHEN p.resume_at <= %(since)s THEN p.resume_at ELSE"
        " (SELECT max(starts_at) FROM stays WHERE subject_id = %(s)s AND starts_at < %(since)s)"
        " END FROM stays_progress p WHERE p.subject_id = %(s)s",
        {"s": subject_id, "since": since},
    )
    row = await cur.fetchone()
    return None if row is None else row[0]


async def track(conn: AsyncConnection[Any], *, subject_id: int, since: datetime | None) -> Track:
    cur = await conn.execute(
        "SELECT extract(epoch FROM time)::float8, lon, lat, accuracy::float8 FROM fixes"
        " WHERE subject_id = %(s)s AND (%(since)s::timestamptz IS NULL OR time >= %(since)s)"
        " ORDER BY time, device_id, seq",
        {"s": subject_id, "since": since},
    )
    rows = np.array(await cur.fetchall(), dtype=np.float64).reshape(-1, 4)
    return Track(*(np.ascontiguousarray(rows[:, k]) for k in range(4)))


async def replace(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    since: datetime | None,
    stays: Sequence[StayRow],
    resume_at: datetime | None,
) -> None:
    """The subject's stays from `since` on (None: all) are these; start again at
    `resume_at` next time (None: as before)."""
    await conn.execute(
        "DELETE FROM stays WHERE subject_id = %(s)s"
        " AND (%(since)s::timestamptz IS NULL OR starts_at >= %(since)s)",
        {"s": subject_id, "since": since},
    )
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO stays (subject_id, starts_at, ends_at, lon, lat, radius_m, fixes,"
            " current) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (subject_id, s.starts_at, s.ends_at, s.lon, s.lat, s.radius_m, s.fixes, s.current)
                for s in stays
            ],
        )
    if resume_at is not None:
        await conn.execute(
            "INSERT INTO stays_progress (subject_id, resume_at) VALUES (%s, %s)"
            " ON CONFLICT (subject_id) DO UPDATE SET resume_at = excluded.resume_at",
            (subject_id, resume_at),
        )


async def done(conn: AsyncConnection[Any], *, looked_at: Pending) -> None:
    """Off the queue, unless fixes came while the job worked (then it goes again)."""
    await conn.execute(
        "DELETE FROM stays_pending WHERE subject_id = %s AND version = %s",
        (looked_at.subject_id, looked_at.version),
    )


async def subject_stays(
    conn: AsyncConnection[Any], *, subject_id: int, since: datetime, until: datetime
) -> list[StayRow]:
    """The subject's stays that overlap [since, until), oldest first."""
    cur = conn.cursor(row_factory=class_row(StayRow))
    await cur.execute(
        "SELECT starts_at, ends_at, lon, lat, radius_m::float8 AS radius_m, fixes, current"
        " FROM stays WHERE subject_id = %s AND ends_at >= %s AND starts_at < %s"
        " ORDER BY starts_at",
        (subject_id, since, until),
    )
    return await cur.fetchall()
