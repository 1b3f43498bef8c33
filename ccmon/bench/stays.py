"""`ccmon bench stays`: how well and how fast stay points are found.

Quality: the simulated county's ordinary days (simulators/month.py: indoor Wi-Fi and cell
fixes, thrown GNSS fixes, tunnels, buffered uploads, restarts), where each subject's true
position is known every minute: a true stop is a run of minutes at one place lasting at
least the policy's minimum; a stay found is right when it covers at least half of the
shorter of it and a stop, within twice the radius. Precision and recall over `--subjects` x
`--days`, and the scan's speed beside a plain Python loop over the same fixes.

The job over the store: `--job-subjects` of the county's subjects, a day of their fixes
stored minute by minute as ingest stores them (each minute a COPY transaction, queueing the
subjects), the job run from nothing over the day, then every minute for `--job-minutes` more
(one round a minute, as `ccmon serve` runs it): each round's time beside the minute's own
COPY (what ingest pays to store it).

PostgreSQL is CCMON_DATABASE_URL (a scratch database: the bench fills it), or a throw-away
embedded server.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

import store
from alerts.stays import Stay, StayPolicy, refresh, stays
from ccmon.bench.common import print_table, scratch_database
from domain import DeviceKind, FixBatch, FixSource, SupervisionLevel
from geofence.grid import M_PER_DEG
from simulators.month import Month

if TYPE_CHECKING:
    from psycopg import AsyncConnection

START = 1_764_518_400.0  # 2025-12-01 00:00 in Asia/Shanghai, the first day's midnight


@dataclass(frozen=True)
class Stop:
    """A true dwell: from `start` to `end` at (x, y)."""

    start: float
    end: float
    x: float
    y: float


def true_stops(times: np.ndarray, where: np.ndarray, min_s: float) -> list[Stop]:
    """Runs of minutes at one position (within a metre) lasting at least `min_s`."""
    moved = np.hypot(*np.diff(where, axis=0).T) > 1.0
    out, begin = [], 0
    for i in [*np.flatnonzero(moved).tolist(), len(times) - 1]:
        if times[i] - times[begin] >= min_s:
            out.append(Stop(times[begin], times[i], *where[begin]))
        begin = i + 1
    return out


def matched(found: list[Stay], truth: list[Stop], radius_m: float) -> tuple[int, int]:
    """(stays that are a true stop, true stops found): a stay is a stop when it covers at
    least half of the shorter of the two in time and its centre lies within twice the
    radius of the place; each is matched once."""
    used: set[int] = set()
    hits = 0
    for s in found:
        for j, stop in enumerate(truth):
            overlap = min(s.end, stop.end) - max(s.start, stop.start)
            shorter = min(s.end - s.start, stop.end - stop.start)
            near = math.hypot(s.x - stop.x, s.y - stop.y) <= 2 * radius_m
            if j not in used and near and overlap >= 0.5 * shorter:
                used.add(j)
                hits += 1
                break
    return hits, len(used)


@dataclass(frozen=True)
class Quality:
    found: int
    right: int
    stops: int
    caught: int
    fixes: int
    scan_s: float  # our scan of every subject's fixes
    loop_s: float  # a plain Python loop over the same fixes (the peer)

    @property
    def precision(self) -> float:
        return self.right / max(self.found, 1)

    @property
    def recall(self) -> float:
        return self.caught / max(self.stops, 1)


def _plain_loop(x: np.ndarray, y: np.ndarray) -> float:
    """The floor of any per-fix Python loop: each fix's distance from the one before."""
    total, px, py = 0.0, float(x[0]), float(y[0])
    for i in range(x.shape[0]):
        qx, qy = float(x[i]), float(y[i])
        total += math.hypot(qx - px, qy - py)
        px, py = qx, qy
    return total


def county_quality(subjects: int, days: int, seed: int, policy: StayPolicy) -> Quality:
    """Stays against the true stops over the county's ordinary days: every device's fixes
    as they arrive (noise, drops, restarts, trips), phone and band as one track."""
    month = Month(subjects=subjects, days=days, start=START, seed=seed, plant_share=0.0)
    minutes = month.steps()
    rows: list[tuple[np.ndarray, ...]] = []
    truth = np.empty((len(minutes), subjects, 2))
    for m, t in enumerate(minutes):
        step = month.at(t)
        rows.append((step.subject, step.time, step.lon, step.lat, step.accuracy))
        truth[m] = month.where(t - 30)
    subject, when, lon, lat, accuracy = (np.concatenate(c) for c in zip(*rows, strict=True))
    totals = [0, 0, 0, 0]
    scan_s = loop_s = 0.0
    for i, person in enumerate(month.people):
        mine = np.flatnonzero(subject == person.id)
        mine = mine[np.argsort(when[mine], kind="stable")]
        lon0, lat0 = month.districts[person.district].centre
        k = M_PER_DEG * math.cos(math.radians(lat0))
        x, y = (lon[mine] - lon0) * k, (lat[mine] - lat0) * M_PER_DEG
        t0 = time.perf_counter()
        found = stays(when[mine], x, y, accuracy[mine], policy)
        t1 = time.perf_counter()
        _plain_loop(x, y)
        scan_s, loop_s = scan_s + t1 - t0, loop_s + time.perf_counter() - t1
        stops = true_stops(np.array(minutes) - 30, truth[:, i], policy.min_s)
        right, caught = matched(found, stops, policy.radius_m)
        for n, v in enumerate((len(found), right, len(stops), caught)):
            totals[n] += v
    return Quality(
        totals[0], totals[1], totals[2], totals[3], int(subject.shape[0]), scan_s, loop_s
    )


@dataclass(frozen=True)
class Registered:
    """The store's ids of the county's subjects and devices, by the month's subject id - 1."""

    subject: np.ndarray[Any, np.dtype[np.int64]]
    phone: np.ndarray[Any, np.dtype[np.int64]]
    band: np.ndarray[Any, np.dtype[np.int64]]


async def _register(conn: AsyncConnection[Any], month: Month) -> Registered:
    """The county's subjects with a phone and a band each."""
    await store.migrate.migrate(conn)
    office = await store.offices.create_office(conn, name="bench stays")
    ids: list[list[int]] = []
    for person in month.people:
        s = await store.subjects.create_subject(
            conn, office_id=office, name=f"subject {person.id}", level=SupervisionLevel.NORMAL
        )
        ids.append([s])
        for kind in (DeviceKind.PHONE, DeviceKind.WRISTBAND):
            ids[-1].append(
                await store.devices.create_device(
                    conn, actor="bench", code=f"bench-s-{person.id}-{kind}", kind=kind, subject_id=s
                )
            )
    table = np.array(ids, np.int64)
    return Registered(table[:, 0], table[:, 1], table[:, 2])


def _batch(month: Month, t: float, ids: Registered, seq: int) -> FixBatch:
    step = month.at(t)
    n = step.subject.shape[0]
    index = step.subject - 1
    return FixBatch(
        subject=ids.subject[index],
        device=np.where(step.wristband, ids.band[index], ids.phone[index]),
        time=step.time,
        lon=step.lon,
        lat=step.lat,
        accuracy=step.accuracy,
        source=[FixSource(s) for s in step.source],
        battery=np.full(n, -1, np.int16),
        seq=np.full(n, seq, np.int64),
        received=np.full(n, t),
        mock=np.zeros(n, np.bool_),
    )


async def _copy(conn: AsyncConnection[Any], batch: FixBatch) -> float:
    t0 = time.perf_counter()
    async with conn.transaction():
        await store.fixes.copy_fixes(conn, batch)
    return time.perf_counter() - t0


async def _round(conn: AsyncConnection[Any], policy: StayPolicy) -> tuple[float, int]:
    t0 = time.perf_counter()
    done = 0
    while n := await refresh(conn, policy=policy, limit=100):
        done += n
    return time.perf_counter() - t0, done


async def _job(url: str, subjects: int, minutes: int, seed: int, policy: StayPolicy) -> None:
    month = Month(subjects=subjects, days=2, start=START, seed=seed, plant_share=0.0)
    steps = month.steps()
    day = [t for t in steps if t <= month.begins + 86400]
    after = [t for t in steps if t > month.begins + 86400][:minutes]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        ids = await _register(conn, month)
        t0 = time.perf_counter()
        for seq, t in enumerate(day):
            await _copy(conn, _batch(month, t, ids, seq))
        stored = time.perf_counter() - t0
        cur = await conn.execute("SELECT count(*) FROM fixes")
        row = await cur.fetchone()
        assert row is not None
        print(f"stored a day: {row[0]:,} fixes of {subjects:,} subjects in {stored:,.0f} s")
        catch_up, done = await _round(conn, policy)
        rounds, copies, scanned = [], [], []
        for seq, t in enumerate(after, start=len(day)):
            copies.append(await _copy(conn, _batch(month, t, ids, seq)))
            cur = await conn.execute(
                "SELECT coalesce(sum((SELECT count(*) FROM fixes f"
                " WHERE f.subject_id = p.subject_id"
                " AND f.time >= coalesce(g.resume_at, '-infinity'))), 0)"
                " FROM stays_pending p LEFT JOIN stays_progress g USING (subject_id)"
            )
            row = await cur.fetchone()
            scanned.append(int(row[0]) if row else 0)
            took, _ = await _round(conn, policy)
            rounds.append(took)
        cur = await conn.execute("SELECT count(*), count(*) FILTER (WHERE current) FROM stays")
        kept = await cur.fetchone()
        assert kept is not None
    r, c = np.array(rounds), np.array(copies)
    print_table(
        [
            ("  ours: the day from nothing", f"{catch_up:,.1f} s ({done:,} subjects)"),
            (
                "  ours: a round a minute, p50 / max",
                f"{np.median(r) * 1000:,.0f} / {r.max() * 1000:,.0f} ms"
                f" ({np.mean(scanned):,.0f} fixes scanned again a round)",
            ),
            (
                "  peer: storing the minute (COPY), p50 / max",
                f"{np.median(c) * 1000:,.0f} / {c.max() * 1000:,.0f} ms",
            ),
            ("  stays kept", f"{kept[0]:,} ({kept[1]:,} going on)"),
        ]
    )


def run(
    *,
    database_url: str | None,
    subjects: int,
    days: int,
    seed: int,
    job_subjects: int,
    job_minutes: int,
    policy: StayPolicy,
) -> None:
    q = county_quality(subjects, days, seed, policy)
    print(f"the county's ordinary days: {subjects:,} subjects x {days} days, {q.fixes:,} fixes")
    print_table(
        [
            ("  precision", f"{q.precision:.3f} ({q.right:,} of {q.found:,} stays found)"),
            ("  recall", f"{q.recall:.3f} ({q.caught:,} of {q.stops:,} true stops)"),
            ("  ours: scan", f"{q.scan_s / q.fixes * 1e6:.2f} us a fix"),
            ("  peer: a plain Python loop", f"{q.loop_s / q.fixes * 1e6:.2f} us a fix"),
        ]
    )
    print()

    async def main() -> None:
        async with scratch_database(database_url) as url:
            await _job(url, job_subjects, job_minutes, seed, policy)

    asyncio.run(main())
