"""Who was there then: each subject's fixes around a time window, as arrays.

The window's fixes are read by time and subject (the BRIN index on time, or each subject's
(subject, time) index, whichever the planner finds cheaper); each subject's last fix before
the window and first after it by two probes of the (subject, time) index. Each fix's next
one is found in numpy, after a sort by subject and time.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from domain import HORIZON_S, Around

if TYPE_CHECKING:
    from datetime import datetime

    from psycopg import AsyncConnection

_WINDOW = (
    "FROM fixes WHERE subject_id = ANY(%(subjects)s) AND time >= %(since)s AND time <= %(until)s"
)
# The window's fixes as one row of arrays in PostgreSQL's binary form (array_send), which
# numpy reads as they are: no fix becomes a Python object (an ordinary query's rows, or a
# COPY's, cost ~2.5 us a fix in the client; this ~1.4 us, most of it the server's).
_ARRAYS = (
    "SELECT array_send(array_agg(subject_id)), array_send(array_agg(device_id)),"
    " array_send(array_agg(time)), array_send(array_agg(lon)), array_send(array_agg(lat)),"
    " array_send(array_agg(accuracy)) " + _WINDOW
)
# Each subject's last fix before the window and first after it, within the horizon: two
# probes of the (subject, time) index per subject.
_EDGES = """
SELECT f.* FROM unnest(%(subjects)s::bigint[]) AS s (id), LATERAL (
    SELECT subject_id, device_id, time, lon, lat, accuracy::float8 FROM fixes
    WHERE subject_id = s.id AND time < %(since)s AND time >= %(lo)s
    ORDER BY time DESC LIMIT 1) AS f
UNION ALL
SELECT f.* FROM unnest(%(subjects)s::bigint[]) AS s (id), LATERAL (
    SELECT subject_id, device_id, time, lon, lat, accuracy::float8 FROM fixes
    WHERE subject_id = s.id AND time > %(until)s AND time <= %(hi)s
    ORDER BY time LIMIT 1) AS f
"""
# timestamptz in binary: microseconds since 2000-01-01 UTC
_EPOCH_2000 = 946_684_800.0


def _parameters(subject_ids: list[int], since: datetime, until: datetime) -> dict[str, Any]:
    horizon = timedelta(seconds=HORIZON_S)
    return {
        "subjects": subject_ids,
        "since": since,
        "until": until,
        "lo": since - horizon,
        "hi": until + horizon,
    }


def _array(data: bytes | None, kind: str) -> np.ndarray[Any, Any]:
    """A one-dimensional array in PostgreSQL's binary form (no NULLs): its values."""
    if data is None:  # array_agg of no rows
        return np.empty(0, dtype=kind)
    dims = int.from_bytes(data[:4], "big")
    items = np.frombuffer(data, dtype=[("length", ">i4"), ("value", kind)], offset=12 + 8 * dims)
    return items["value"]


async def _columns(
    conn: AsyncConnection[Any], parameters: dict[str, Any]
) -> list[np.ndarray[Any, Any]]:
    """subject, device, time (epoch s), lon, lat, accuracy of the window's fixes and of
    each subject's fixes at its edges."""
    cur = await conn.execute(_ARRAYS, parameters, binary=True)
    row = await cur.fetchone()
    assert row is not None
    window = [
        _array(row[0], ">i8"),
        _array(row[1], ">i8"),
        _array(row[2], ">i8") / 1e6 + _EPOCH_2000,
        _array(row[3], ">f8"),
        _array(row[4], ">f8"),
        _array(row[5], ">f4"),
    ]
    cur = await conn.execute(_EDGES, parameters)
    edges = await cur.fetchall()
    extra = [
        np.array([r[0] for r in edges], dtype=np.int64),
        np.array([r[1] for r in edges], dtype=np.int64),
        np.array([r[2].timestamp() for r in edges], dtype=np.float64),
        *(np.array([r[i] for r in edges], dtype=np.float64) for i in (3, 4, 5)),
    ]
    return [np.concatenate([w.astype(e.dtype), e]) for w, e in zip(window, extra, strict=True)]


async def fixes_around(
    conn: AsyncConnection[Any],
    *,
    subject_ids: list[int],
    since: datetime,
    until: datetime,
) -> Around:
    """The fixes of these subjects in [since, until], each subject's last before and first
    after (within the horizon), each with the subject's next fix."""
    subject, device, time, lon, lat, accuracy = await _columns(
        conn, _parameters(subject_ids, since, until)
    )
    order = np.lexsort((device, time, subject))
    subject, device, time = subject[order], device[order], time[order]
    lon, lat, accuracy = lon[order], lat[order], accuracy[order]
    same_next = np.zeros(order.shape[0], dtype=np.bool_)
    same_next[:-1] = subject[1:] == subject[:-1]
    has_previous = np.zeros_like(same_next)
    has_previous[1:] = same_next[:-1]
    within = (time >= since.timestamp()) & (time <= until.timestamp())
    first = np.flatnonzero(np.diff(subject, prepend=-1) != 0)
    in_window = np.add.reduceat(within.astype(np.int64), first) if subject.size else subject
    sizes = np.diff(np.append(first, subject.shape[0]))

    def following(values: np.ndarray[Any, Any], fill: float) -> np.ndarray[Any, Any]:
        out = np.full(values.shape[0], fill, dtype=values.dtype)
        out[:-1] = values[1:]
        out[~same_next] = fill
        return out

    return Around(
        subject=subject,
        device=device,
        time=time,
        lon=lon,
        lat=lat,
        accuracy=accuracy,
        has_previous=has_previous,
        next_device=following(device, -1),
        next_time=following(time, np.nan),
        next_lon=following(lon, np.nan),
        next_lat=following(lat, np.nan),
        next_accuracy=following(accuracy, np.nan),
        in_window=np.repeat(in_window, sizes),
    )


async def count_fixes(
    conn: AsyncConnection[Any], *, subject_ids: list[int], since: datetime, until: datetime
) -> int:
    """How many fixes of the window `fixes_around` reads: what the scan alone costs, for
    a benchmark."""
    cur = await conn.execute("SELECT count(*) " + _WINDOW, _parameters(subject_ids, since, until))
    row = await cur.fetchone()
    return 0 if row is None else int(row[0])


async def plan(
    conn: AsyncConnection[Any], *, subject_ids: list[int], since: datetime, until: datetime
) -> list[str]:
    """How PostgreSQL reads the fixes (EXPLAIN ANALYZE), line by line."""
    cur = await conn.execute(
        "EXPLAIN (ANALYZE, BUFFERS) " + _ARRAYS, _parameters(subject_ids, since, until)
    )
    return [str(row[0]) for row in await cur.fetchall()]


async def device_codes(conn: AsyncConnection[Any], *, device_ids: list[int]) -> dict[int, str]:
    cur = await conn.execute("SELECT id, code FROM devices WHERE id = ANY(%s)", (device_ids,))
    return {int(i): str(c) for i, c in await cur.fetchall()}
