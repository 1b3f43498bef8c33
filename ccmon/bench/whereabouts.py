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
    *,
    prune: bool,
) -> tuple[float, float, int, np.ndarray[Any, np.dtype[np.int8]]]:
    """(query s, judgement s, rows sent, each subject's verdict)."""
    t0 = time.perf_counter()
    around = await store.whereabouts.fixes_around(
        conn,
        subject_ids=ids,
        since=since,
        until=until,
        centre=(area.centre_lon, area.centre_lat),
        radius_m=area.radius_m,
        max_speed=SPEED,
        prune=prune,
    )
    t1 = time.perf_counter()
    answer = judge(area, around, since=since.timestamp(), until=until.timestamp(), max_speed=SPEED)
    t2 = time.perf_counter()
    verdict = np.zeros(len(ids), np.int8)
    verdict[np.searchsorted(ids, answer.subject)] = answer.verdict
    return t1 - t0, t2 - t1, int(around.time.shape[0]), verdict


async def _count(
    conn: AsyncConnection[Any], ids: list[int], since: datetime, until: datetime
) -> float:
    horizon = timedelta(seconds=HORIZON_S)
    t0 = time.perf_counter()
    await conn.execute(
        "SELECT count(*) FROM fixes WHERE subject_id = ANY(%s) AND time >= %s AND time <= %s",
        (ids, since - horizon, until + horizon),
    )
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
                ours, peer, counted = [], [], []
                for _ in range(REPEAT):
                    q, j, sent, verdict = await _ask(conn, ids, area, since, until, prune=True)
                    ours.append(q + j)
                    pq, pj, every, unpruned = await _ask(conn, ids, area, since, until, prune=False)
                    peer.append(pq + pj)
                    counted.append(await _count(conn, ids, since, until))
                counts = np.bincount(verdict, minlength=4)
                plan = await store.whereabouts.plan(
                    conn,
                    subject_ids=ids,
                    since=since,
                    until=until,
                    centre=(area.centre_lon, area.centre_lat),
                    radius_m=area.radius_m,
                    max_speed=SPEED,
                )
                scans = sorted({line.strip().split("  ")[0] for line in plan if "Scan" in line})
                print(f"{name}, {hours} h window, {len(ids):,} subjects:")
                print_table(
                    [
                        ("  ours (query + judgement), best / median", _ms(ours)),
                        ("  last run: query / judgement", f"{q * 1000:,.0f} / {j * 1000:,.0f} ms"),
                        ("  rows sent by the server", f"{sent:,} (of {every:,} around the window)"),
                        ("  peer: every fix sent and judged", _ms(peer)),
                        ("  peer: counting the fixes read", _ms(counted)),
                        (
                            "  answers",
                            ", ".join(f"{Verdict(v).name.lower()} {counts[v]:,}" for v in Verdict)
                            + (
                                "; the same with every fix"
                                if np.array_equal(verdict, unpruned)
                                else "; DIFFERENT with every fix"
                            ),
                        ),
                        ("  plan", "; ".join(scans)),
                    ]
                )


def run(*, database_url: str | None, subjects: int, days: int) -> None:
    async def main() -> None:
        async with scratch_database(database_url) as url:
            await _measure(url, subjects, days)

    asyncio.run(main())
