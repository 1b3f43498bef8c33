"""`ccmon bench whereabouts`: "who was there then" over a month of a county's fixes.

1,000 subjects (`--subjects`) reporting once a minute for 30 days (`--days`): 43 million
fixes, written by the server itself in time order (as ingest writes them) into the schema's
fixes table with its indexes. Each subject circles their home on a loop of their own (0.2-5
km across, once every 2-12 hours) with GNSS-like jitter, and every tenth passes by a common
place. Then the question an investigator asks: every subject, for an area (a 300 m circle at
the common place; a 1 km square) and a window (1 hour, 6 hours, a day) in the month's
middle, timed as the API answers it: the store's query, then the judgement (best and median
of 5). Beside each, from the same run: the same query without the server's filter (every
fix around the window sent and judged: the answers must agree), and counting the window's
fixes (what reading them costs PostgreSQL alone).

PostgreSQL is CCMON_DATABASE_URL (a scratch database: the bench fills it), or a throw-away
embedded server.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

import store
from ccmon.bench.common import print_table, scratch_database
from domain import HORIZON_S, DeviceKind, SupervisionLevel, Verdict
from geofence.whereabouts import Area, judge

if TYPE_CHECKING:
    from psycopg import AsyncConnection

LON0, LAT0 = 104.06, 30.66
M_PER_DEG = 111_195.0
KX = M_PER_DEG * np.cos(np.radians(LAT0))
START = datetime(2026, 11, 1, tzinfo=UTC)
SPEED = 33.4
REPEAT = 5

# Each subject: home (x, y metres from the centre), loop radius, period, phase; every tenth
# loop passes through the common place (0, 0).
_FILL = """
INSERT INTO fixes (time, subject_id, device_id, lon, lat, accuracy, source, received_at)
SELECT t, s.id, s.device,
    %(lon0)s + (s.hx + s.r * cos(s.phase + 2 * pi() * e / s.period)
        + (random() - 0.5) * 10) / %(kx)s,
    %(lat0)s + (s.hy + s.r * sin(s.phase + 2 * pi() * e / s.period)
        + (random() - 0.5) * 10) / %(m_per_deg)s,
    5 + floor(random() * 36), 'gnss', t
FROM generate_series(%(lo)s::timestamptz, %(hi)s::timestamptz - interval '1 minute',
        interval '1 minute') AS t,
    LATERAL (SELECT extract(epoch FROM t) AS e) AS e,
    bench_subjects s
ORDER BY t, s.id
"""


async def _fill(conn: AsyncConnection[Any], subjects: int, days: int) -> list[int]:
    """The office, its subjects and phones, and `days` of fixes; returns the subject ids."""
    await store.migrate.migrate(conn)
    office = await store.offices.create_office(conn, name="bench whereabouts")
    ids, devices = [], []
    for i in range(subjects):
        s = await store.subjects.create_subject(
            conn, office_id=office, name=f"subject {i}", level=SupervisionLevel.NORMAL
        )
        devices.append(
            await store.devices.create_device(
                conn, actor="bench", code=f"bench-w-{i}", kind=DeviceKind.PHONE, subject_id=s
            )
        )
        ids.append(s)
    rng = np.random.default_rng(1)
    r = rng.uniform(100, 2500, subjects)
    angle = rng.uniform(0, 2 * np.pi, subjects)
    home = rng.uniform(-10_000, 10_000, (subjects, 2))
    phase = rng.uniform(0, 2 * np.pi, subjects)
    passing = np.arange(subjects) % 10 == 0
    # a passing subject's loop goes through (0, 0): the home a radius away from it
    home[passing] = np.column_stack([np.cos(angle), np.sin(angle)])[passing] * r[passing, None]
    phase[passing] = angle[passing] + np.pi
    await conn.execute(
        "CREATE TEMP TABLE bench_subjects (id bigint, device bigint, hx float8, hy float8,"
        " r float8, period float8, phase float8)"
    )
    async with conn.cursor().copy("COPY bench_subjects FROM STDIN") as copy:
        for row in zip(
            ids,
            devices,
            home[:, 0],
            home[:, 1],
            r,
            rng.uniform(2 * 3600, 12 * 3600, subjects),
            phase,
            strict=True,
        ):
            await copy.write_row(row)
    t0 = time.perf_counter()
    for day in range(days):
        lo = START + timedelta(days=day)
        await conn.execute(
            _FILL,
            {
                "lo": lo,
                "hi": lo + timedelta(days=1),
                "lon0": LON0,
                "lat0": LAT0,
                "kx": KX,
                "m_per_deg": M_PER_DEG,
            },
        )
        done = (day + 1) * subjects * 1440
        print(f"  day {day + 1}/{days}: {done:,} fixes, {done / (time.perf_counter() - t0):,.0f}/s")
    await conn.execute("VACUUM ANALYZE fixes")
    return ids


def _areas() -> dict[str, dict[str, Any]]:
    side = 500.0 / KX, 500.0 / M_PER_DEG
    square = [
        [LON0 - side[0], LAT0 - side[1]],
        [LON0 + side[0], LAT0 - side[1]],
        [LON0 + side[0], LAT0 + side[1]],
        [LON0 - side[0], LAT0 + side[1]],
        [LON0 - side[0], LAT0 - side[1]],
    ]
    return {
        "circle 300 m": {"type": "Circle", "center": [LON0, LAT0], "radius_m": 300.0},
        "square 1 km": {"type": "Polygon", "coordinates": [square]},
    }


async def _ask(
    conn: AsyncConnection[Any],
    ids: list[int],
    area: Area,
    since: datetime,
    until: datetime,
) -> tuple[float, float, np.ndarray[Any, np.dtype[np.int8]]]:
    """(query s, judgement s, each subject's verdict)."""
    t0 = time.perf_counter()
    around = await store.whereabouts.fixes_around(conn, subject_ids=ids, since=since, until=until)
    t1 = time.perf_counter()
    answer = judge(area, around, since=since.timestamp(), until=until.timestamp(), max_speed=SPEED)
    t2 = time.perf_counter()
    verdict = np.zeros(len(ids), np.int8)
    verdict[np.searchsorted(ids, answer.subject)] = answer.verdict
    return t1 - t0, t2 - t1, verdict


async def _select(
    conn: AsyncConnection[Any], ids: list[int], since: datetime, until: datetime
) -> float:
    """The same fixes as an ordinary query's rows (Python tuples): the plain way."""
    horizon = timedelta(seconds=HORIZON_S)
    t0 = time.perf_counter()
    cur = await conn.execute(
        "SELECT subject_id, device_id, time, lon, lat, accuracy FROM fixes"
        " WHERE subject_id = ANY(%s) AND time >= %s AND time <= %s",
        (ids, since - horizon, until + horizon),
    )
    await cur.fetchall()
    return time.perf_counter() - t0


def _ms(values: list[float]) -> str:
    return f"{min(values) * 1000:,.0f} / {statistics.median(values) * 1000:,.0f} ms"


async def _measure(url: str, subjects: int, days: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        ids = await _fill(conn, subjects, days)
        cur = await conn.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('fixes')) FROM fixes"
        )
        row = await cur.fetchone()
        assert row is not None
        print(
            f"stored {row[0]:,} fixes ({row[1]} with indexes) in {time.perf_counter() - t0:,.0f} s"
        )
        print()
        middle = START + timedelta(days=days / 2, hours=0.5)
        for name, geometry in _areas().items():
            area = Area.of(geometry)
            for hours in (1, 6, 24):
                since, until = middle, middle + timedelta(hours=hours)
                ours, queries, judged, counted, selected = [], [], [], [], []
                for _ in range(REPEAT):
                    q, j, verdict = await _ask(conn, ids, area, since, until)
                    ours.append(q + j)
                    queries.append(q)
                    judged.append(j)
                    t0 = time.perf_counter()
                    read = await store.whereabouts.count_fixes(
                        conn, subject_ids=ids, since=since, until=until
                    )
                    counted.append(time.perf_counter() - t0)
                    selected.append(await _select(conn, ids, since, until))
                counts = np.bincount(verdict, minlength=4)
                plan = await store.whereabouts.plan(conn, subject_ids=ids, since=since, until=until)
                scans = sorted(
                    {line.strip().lstrip("-> ").split("  (")[0] for line in plan if "Scan" in line}
                )
                print(f"{name}, {hours} h window, {len(ids):,} subjects, {read:,} fixes read:")
                print_table(
                    [
                        ("  ours: query + judgement, best / median", _ms(ours)),
                        ("  ours: query / judgement, medians", f"{_ms(queries)}; {_ms(judged)}"),
                        ("  peer: PostgreSQL counting them", _ms(counted)),
                        ("  peer: an ordinary SELECT of them", _ms(selected)),
                        (
                            "  answers",
                            ", ".join(f"{Verdict(v).name.lower()} {counts[v]:,}" for v in Verdict),
                        ),
                        ("  plan", "; ".join(scans)),
                    ]
                )


def run(*, database_url: str | None, subjects: int, days: int) -> None:
    async def main() -> None:
        async with scratch_database(database_url) as url:
            await _measure(url, subjects, days)

    asyncio.run(main())
