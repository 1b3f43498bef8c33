"""Who was there then: each subject's fixes around a time window that can bear on whether
they were in an area, found in one pass over the window's fixes.

The fixes table is read by time (its BRIN index, or each subject's (subject, time) index,
whichever the planner finds cheaper) over the window and an hour either side; each fix
gets its subject's previous and next fix (one sort by subject and time); only those that
could be in the area or bound a gap in which the subject could have gone there leave the
server, judged by a lower bound of their distance to a circle around the area. Every fix
left behind is decisively outside and too far from the area for the time around it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from domain import HORIZON_S, Around

if TYPE_CHECKING:
    from datetime import datetime

    from psycopg import AsyncConnection

# Degrees to metres on the sphere (ccmon's earth radius), less 2%: with the smaller of the
# two latitudes' cosines east-west, a distance up to a few hundred km is not overstated.
_M_PER_DEG_LOWER = 0.98 * 111_195.0

_AROUND = """
WITH f AS (
    SELECT subject_id, device_id, time, extract(epoch FROM time)::float8 AS t, lon, lat,
        accuracy::float8 AS acc,
        lag(time) OVER w AS prev_time,
        lead(time) OVER w AS next_time, lead(device_id, 1, -1) OVER w AS next_device,
        lead(extract(epoch FROM time)::float8) OVER w AS next_t,
        lead(lon) OVER w AS next_lon, lead(lat) OVER w AS next_lat,
        lead(accuracy::float8) OVER w AS next_acc,
        greatest(%(m_per_deg)s * sqrt(
            power((lon - %(lon)s) * cos(radians(greatest(abs(lat), %(abs_lat)s))), 2)
            + power(lat - %(lat)s, 2)) - %(radius)s - accuracy, 0) AS lower_bound
    FROM fixes
    WHERE subject_id = ANY(%(subjects)s) AND time >= %(lo)s AND time <= %(hi)s
    WINDOW w AS (PARTITION BY subject_id ORDER BY time, device_id)
), g AS (
    SELECT *,
        count(*) FILTER (WHERE time >= %(since)s AND time <= %(until)s) OVER s AS n_in,
        min(lower_bound) FILTER (WHERE time >= %(since)s AND time <= %(until)s) OVER s
            AS nearest
    FROM f
    WHERE (time >= %(since)s AND time <= %(until)s)
        OR (time < %(since)s AND (next_time >= %(since)s OR next_time IS NULL))
        OR (time > %(until)s AND (prev_time <= %(until)s OR prev_time IS NULL))
    WINDOW s AS (PARTITION BY subject_id)
)
SELECT subject_id, device_id, t, lon, lat, acc, prev_time IS NOT NULL,
    next_device, next_t, next_lon, next_lat, next_acc, n_in
FROM g
WHERE NOT %(prune)s OR time < %(since)s OR time > %(until)s OR lower_bound = nearest
    OR lower_bound <= %(speed)s * greatest(
        t - coalesce(extract(epoch FROM prev_time), %(lo_t)s),
        coalesce(next_t, %(hi_t)s) - t)
ORDER BY subject_id, time, device_id
"""


def _parameters(
    subject_ids: list[int],
    since: datetime,
    until: datetime,
    centre: tuple[float, float],
    radius_m: float,
    max_speed: float,
    prune: bool,
) -> dict[str, Any]:
    horizon = timedelta(seconds=HORIZON_S)
    lo, hi = since - horizon, until + horizon
    return {
        "subjects": subject_ids,
        "since": since,
        "until": until,
        "lo": lo,
        "hi": hi,
        "lo_t": lo.timestamp(),
        "hi_t": hi.timestamp(),
        "lon": centre[0],
        "lat": centre[1],
        "abs_lat": abs(centre[1]),
        "radius": radius_m,
        "m_per_deg": _M_PER_DEG_LOWER,
        "speed": max_speed,
        "prune": prune,
    }


async def fixes_around(
    conn: AsyncConnection[Any],
    *,
    subject_ids: list[int],
    since: datetime,
    until: datetime,
    centre: tuple[float, float],
    radius_m: float,
    max_speed: float,
    prune: bool = True,
) -> Around:
    """The fixes of these subjects that can bear on whether they were within `radius_m`
    of `centre` (lon, lat) during [since, until] at no more than `max_speed` m/s (with
    `prune=False`, every fix around the window: what the filter saves, and a check)."""
    cur = await conn.execute(
        _AROUND,
        _parameters(subject_ids, since, until, centre, radius_m, max_speed, prune),
    )
    rows = await cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 13

    def floats(i: int) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.array([np.nan if v is None else v for v in columns[i]], dtype=np.float64)

    return Around(
        subject=np.array(columns[0], dtype=np.int64),
        device=np.array(columns[1], dtype=np.int64),
        time=floats(2),
        lon=floats(3),
        lat=floats(4),
        accuracy=floats(5),
        has_previous=np.array(columns[6], dtype=np.bool_),
        next_device=np.array(columns[7], dtype=np.int64),
        next_time=floats(8),
        next_lon=floats(9),
        next_lat=floats(10),
        next_accuracy=floats(11),
        in_window=np.array(columns[12], dtype=np.int64),
    )


async def device_codes(conn: AsyncConnection[Any], *, device_ids: list[int]) -> dict[int, str]:
    cur = await conn.execute("SELECT id, code FROM devices WHERE id = ANY(%s)", (device_ids,))
    return {int(i): str(c) for i, c in await cur.fetchall()}


async def plan(
    conn: AsyncConnection[Any],
    *,
    subject_ids: list[int],
    since: datetime,
    until: datetime,
    centre: tuple[float, float],
    radius_m: float,
    max_speed: float,
) -> list[str]:
    """How PostgreSQL runs `fixes_around` (EXPLAIN ANALYZE), line by line."""
    params = _parameters(subject_ids, since, until, centre, radius_m, max_speed, prune=True)
    cur = await conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + _AROUND, params)
    return [str(row[0]) for row in await cur.fetchall()]
