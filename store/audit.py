"""The audit trail of location reads (全程留痕): written with every read, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from store.fixes import FixRow
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class LocationReadRow:
    id: int
    at: datetime
    username: str
    subject_id: int | None  # None for a live feed: every subject of `offices`
    what: str  # 'latest', 'trail' or 'live'
    from_time: datetime | None
    to_time: datetime | None
    purpose: str
    fixes: int  # for a live feed: the positions shown on connecting
    offices: list[int] | None  # a live feed's offices (None: all)
    protected_person_id: int | None  # a read of a protected person's positions
    case_ref: str | None  # the case a whereabouts query was asked for


async def record_location_read(
    conn: AsyncConnection[Any],
    *,
    username: str,
    subject_id: int | None,
    what: str,
    purpose: str,
    fixes: int,
    since: datetime | None = None,
    until: datetime | None = None,
    offices: Sequence[int] | None = None,
    protected_person_id: int | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO location_reads (username, subject_id, what, from_time, to_time, purpose,"
        " fixes, offices, protected_person_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            username,
            subject_id,
            what,
            since,
            until,
            purpose,
            fixes,
            None if offices is None else list(offices),
            protected_person_id,
        ),
    )


async def record_whereabouts_reads(
    conn: AsyncConnection[Any],
    *,
    username: str,
    fixes: dict[int, int],
    since: datetime,
    until: datetime,
    purpose: str,
    case_ref: str,
) -> None:
    """One read per subject a whereabouts query answered (`fixes`: subject id -> the
    fixes shown of them), all with the query's window, purpose and case."""
    await conn.execute(
        "INSERT INTO location_reads (username, subject_id, what, from_time, to_time, purpose,"
        " fixes, case_ref) SELECT %s, s, 'whereabouts', %s, %s, %s, n, %s"
        " FROM unnest(%s::bigint[], %s::int[]) AS u (s, n)",
        (username, since, until, purpose, case_ref, list(fixes), list(fixes.values())),
    )


async def location_reads(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    subject_id: int | None = None,
    protected_person_id: int | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
) -> list[LocationReadRow]:
    """Reads of the locations of subjects and protected persons of these offices (None:
    all), and the live feeds that showed any of them, newest first."""
    cur = conn.cursor(row_factory=class_row(LocationReadRow))
    await cur.execute(
        "SELECT r.id, r.at, r.username, r.subject_id, r.what, r.from_time, r.to_time,"
        " r.purpose, r.fixes, r.offices, r.protected_person_id, r.case_ref"
        " FROM location_reads r LEFT JOIN subjects s ON s.id = r.subject_id"
        " LEFT JOIN protected_persons pp ON pp.id = r.protected_person_id"
        " WHERE (" + in_offices("s.office_id") + " OR " + in_offices("pp.office_id") + " OR"
        " (r.subject_id IS NULL AND r.protected_person_id IS NULL"
        "  AND (r.offices IS NULL OR r.offices && %(offices)s::bigint[])))"
        " AND (%(subject)s::bigint IS NULL OR r.subject_id = %(subject)s)"
        " AND (%(protected)s::bigint IS NULL OR r.protected_person_id = %(protected)s)"
        " AND (%(username)s::text IS NULL OR r.username = %(username)s)"
        " AND (%(since)s::timestamptz IS NULL OR r.at >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR r.at < %(until)s)"
        " ORDER BY r.id DESC LIMIT %(limit)s",
        {
            "offices": None if offices is None else list(offices),
            "subject": subject_id,
            "protected": protected_person_id,
            "username": username,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    return await cur.fetchall()


# Which of the trail's equal spans a fix falls in.
_SPAN = "floor(extract(epoch FROM f.time - %(since)s)::float8 / %(span)s::float8)"


async def trail(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    since: datetime,
    until: datetime,
    max_points: int,
) -> tuple[int, list[FixRow]]:
    """(fixes in [since, until), at most `max_points` of them oldest first): all of them
    when there are no more; else the range cut into `max_points` equal spans, the most
    accurate fix of each span kept."""
    cur = await conn.execute(
        "SELECT count(*) FROM fixes WHERE subject_id = %s AND time >= %s AND time < %s",
        (subject_id, since, until),
    )
    row = await cur.fetchone()
    total = 0 if row is None else int(row[0])
    columns = (
        "f.time, d.code AS device_code, d.kind AS device_kind, f.lon, f.lat, f.accuracy,"
        " f.source, f.battery, f.seq, f.received_at"
        " FROM fixes f JOIN devices d ON d.id = f.device_id"
        " WHERE f.subject_id = %(subject)s AND f.time >= %(since)s AND f.time < %(until)s"
    )
    args = {"since": since, "until": until, "subject": subject_id}
    points = conn.cursor(row_factory=class_row(FixRow))
    if total <= max_points:
        await points.execute(f"SELECT {columns} ORDER BY f.time", args)
        return total, await points.fetchall()
    args["span"] = (until - since).total_seconds() / max_points
    await points.execute(
        f"SELECT time, device_code, device_kind, lon, lat, accuracy, source, battery, seq,"
        f" received_at FROM (SELECT DISTINCT ON ({_SPAN}) {columns}"
        f"  ORDER BY {_SPAN}, f.accuracy, f.time) kept ORDER BY time",
        args,
    )
    return total, await points.fetchall()
