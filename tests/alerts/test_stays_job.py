"""The stay points job over the real PostgreSQL: fixes stored in batches, some arriving hours
late, leave the same stays as one scan of all of them; a subject another process is doing is
left to it; stays go with the fixes at retention."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import store
from alerts.stays import StayPolicy, refresh, stays
from domain import FixBatch, FixSource
from geofence import Plane
from tests.helpers import CENTRE, offset, seed_subject

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

POLICY = StayPolicy()
T0 = datetime.now(UTC).timestamp() - 20 * 3600.0  # inside the seeded order
ACCURACIES = np.array([5.0, 12.0, 35.0, 80.0, 400.0])


def day(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A few hours of fixes every minute: places dwelt at for 0-90 minutes with walks and
    drives between, indoor jitter, thrown fixes and silences."""
    rng = np.random.default_rng(seed)
    times, east, north, accuracy = [], [], [], []
    t, x, y = T0, 0.0, 0.0
    for _ in range(rng.integers(2, 7)):
        for _ in range(rng.integers(0, 90)):
            acc = float(rng.choice(ACCURACIES, p=[0.4, 0.3, 0.15, 0.1, 0.05]))
            jitter = rng.normal(0, acc / 2, 2)
            times.append(t)
            east.append(x + jitter[0])
            north.append(y + jitter[1])
            accuracy.append(acc)
            t += 60.0 if rng.random() > 0.02 else float(rng.integers(600, 7200))
        heading, speed = rng.uniform(0, 2 * np.pi), float(rng.choice([1.4, 12.0]))
        for _ in range(rng.integers(3, 25)):
            x, y = x + speed * 60 * np.cos(heading), y + speed * 60 * np.sin(heading)
            times.append(t)
            east.append(x)
            north.append(y)
            accuracy.append(10.0)
            t += 60.0
    lon, lat = offset(np.array(east), np.array(north))  # type: ignore[arg-type]
    return np.array(times), np.asarray(lon), np.asarray(lat), np.array(accuracy)


def batch(subject: int, device: int, rows: np.ndarray, fixes: tuple[np.ndarray, ...]) -> FixBatch:
    time, lon, lat, accuracy = (f[rows] for f in fixes)
    n = rows.shape[0]
    return FixBatch(
        subject=np.full(n, subject, np.int64),
        device=np.full(n, device, np.int64),
        time=time,
        lon=lon,
        lat=lat,
        accuracy=accuracy,
        source=[FixSource.GNSS] * n,
        battery=np.full(n, 50, np.int16),
        seq=rows.astype(np.int64),
        received=time + 1.0,
        mock=np.zeros(n, np.bool_),
    )


async def stored(pool: AsyncConnectionPool[Any], subject: int) -> list[tuple[Any, ...]]:
    async with pool.connection() as conn:
        rows = await store.stays.subject_stays(
            conn,
            subject_id=subject,
            since=datetime.fromtimestamp(0, UTC),
            until=datetime.fromtimestamp(4e9, UTC),
        )
    return [
        (r.starts_at.timestamp(), r.ends_at.timestamp(), r.fixes, r.lon, r.lat, r.current)
        for r in rows
    ]


async def run_job(pool: AsyncConnectionPool[Any]) -> None:
    async with pool.connection() as conn:
        while await refresh(conn, policy=POLICY, limit=50):
            pass


counter = iter(range(10**6))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.floats(0, 1), max_size=6), late=st.data())
async def test_stays_found_batch_by_batch_with_late_fixes_are_those_of_one_scan_of_all(
    pool: AsyncConnectionPool[Any], seed: int, cuts: list[float], late: st.DataObject
) -> None:
    code = f"stays-job-{next(counter)}"
    seeded = await seed_subject(pool, code=code)
    fixes = day(seed)
    n = fixes[0].shape[0]
    bounds = sorted({0, n, *(int(c * n) for c in cuts)})
    parts = [np.arange(a, b) for a, b in itertools.pairwise(bounds)]
    # the batches reach the store in any order (a phone uploading what it held hours late)
    order = late.draw(st.permutations(range(len(parts))))
    async with pool.connection() as conn:
        device = {d.code: d.id for d in await store.devices.load_devices(conn)}[code]
    for k in order:
        async with pool.connection() as conn, conn.transaction():
            await store.fixes.copy_fixes(conn, batch(seeded.subject_id, device, parts[k], fixes))
        await run_job(pool)

    time, lon, lat, accuracy = fixes
    plane = Plane(round(CENTRE[0]), round(CENTRE[1]))
    x, y = plane.project(lon, lat)
    expected = stays(time, x, y, accuracy, POLICY)
    got = await stored(pool, seeded.subject_id)
    assert [(round(s.start, 3), round(s.end, 3), s.fixes) for s in expected] == [
        (round(g[0], 3), round(g[1], 3), g[2]) for g in got
    ]
    for s, g in zip(expected, got, strict=True):
        assert np.allclose(plane.unproject(s.x, s.y), g[3:5], atol=1e-7)
    # only the last may go on, and only if the fixes end in it
    assert [g[5] for g in got[:-1]] == [False] * max(len(got) - 1, 0)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM stays_pending WHERE subject_id = %s", (seeded.subject_id,)
        )
        assert await cur.fetchone() == (0,)


async def test_a_subject_another_process_is_doing_is_left_to_it(
    pool: AsyncConnectionPool[Any],
) -> None:
    seeded = await seed_subject(pool, code="stays-job-busy")
    fixes = day(7)
    async with pool.connection() as conn:
        device = {d.code: d.id for d in await store.devices.load_devices(conn)}["stays-job-busy"]
        async with conn.transaction():
            await store.fixes.copy_fixes(
                conn, batch(seeded.subject_id, device, np.arange(fixes[0].shape[0]), fixes)
            )
    async with pool.connection() as holder, holder.transaction():
        assert await store.stays.take(holder, subject_id=seeded.subject_id)
        await run_job(pool)
        assert await stored(pool, seeded.subject_id) == []
    await run_job(pool)
    assert len(await stored(pool, seeded.subject_id)) >= 1
