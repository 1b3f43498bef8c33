"""`ccmon bench suspect`: how well faked locations are told from real ones, and how fast.

The simulated county's month (simulators/month.py: indoor Wi-Fi and cell fixes, thrown GNSS
fixes, tunnels, buffered uploads, restarts) goes through the faked-location rule minute by
minute as ingest would judge it, twice: as it is (every finding a false alarm), and with one
faking episode planted on each of a share of the subjects' phones, on a random day between
10:00 and 16:00, each kind in turn:

- teleport: an hour from a place 15-300 km away (GNSS, metres of jitter);
- clock back: an hour with the phone's clock 10-120 minutes behind (numbered on);
- frozen: three hours on one position, to the last digit, with one accuracy;
- still: two hours on one position (jittered, GNSS) while the band goes on with the
  subject (counted where the subject went 1 km or more away meanwhile);
- mock: half an hour of fixes the phone says are mocked.

Recall: episodes raised by their own signal, on the phone, while they last (or within the
rule's confirmation after). Beside it: the rule's time per fix and a plain Python loop over
the same fixes (the peer), and the real phone trace's findings where `../shared` has it.
"""

from __future__ import annotations

import csv
import itertools
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from alerts.suspect import Partners, SuspectPolicy, no_checks, suspect_findings
from ccmon.bench.common import print_table
from domain import FixBatch, FixSource, Positions, Text
from geofence.grid import M_PER_DEG
from simulators.month import Month

if TYPE_CHECKING:
    from domain import Finding

START = 1_764_518_400.0  # 2025-12-01 00:00 in Asia/Shanghai, the first day's midnight
KINDS = ("teleport", "clock_back", "frozen", "still", "mock")
SIGNAL = {
    "teleport": "suspect_jump",
    "clock_back": "suspect_backwards",
    "frozen": "suspect_frozen",
    "still": "suspect_still",
    "mock": "suspect_mock",
}
LASTS_S = {"teleport": 3600.0, "clock_back": 3600.0, "frozen": 3 * 3600.0, "still": 7200.0}
REAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"  # beside the project


@dataclass
class Arrivals:
    """Every fix of the month, with the minute it arrived in."""

    minute: NDArray[np.int64]
    subject: NDArray[np.int64]
    band: NDArray[np.bool_]
    time: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    gnss: NDArray[np.bool_]
    mock: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))
    seq: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    def copy(self) -> Arrivals:
        return Arrivals(**{k: v.copy() for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class Episode:
    kind: str
    subject: int
    start: float
    end: float
    jump_m: float = 0.0  # a teleport's jump, a clock's setback (s)
    gap_s: float = math.inf  # between the phone's fixes about the start


def arrivals(month: Month) -> Arrivals:
    cols: list[tuple[np.ndarray, ...]] = []
    for m, t in enumerate(month.steps()):
        s = month.at(t)
        n = s.subject.shape[0]
        cols.append((np.full(n, m), s.subject, s.wristband, s.time, s.lon, s.lat, s.accuracy))
        cols[-1] += (s.source == FixSource.GNSS.value,)
    a = Arrivals(*(np.concatenate(c) for c in zip(*cols, strict=True)))
    a.mock = np.zeros(a.time.shape[0], np.bool_)
    a.seq = a.time.astype(np.int64)  # a device numbers its fixes as it takes them
    return a


def plant(
    month: Month, a: Arrivals, share: float, rng: np.random.Generator, policy: SuspectPolicy
) -> list[Episode]:
    """Fake one episode on the phone of every `1 / share`-th subject, the other kinds in
    turn, and a still phone on every subject with a band (from 07:00: the drive to work
    goes on without it)."""
    episodes = []
    step = max(1, round(1 / share))
    banded = set(a.subject[a.band].tolist())
    others = [k for k in KINDS if k != "still"]
    turn = 0
    for n, person in enumerate(month.people):
        if person.id in banded:
            kind = "still"
        elif n % step == 0:
            kind, turn = others[turn % len(others)], turn + 1
        else:
            continue
        day = int(rng.integers(1, month.days))
        hour = rng.uniform(7, 7.3) if kind == "still" else rng.uniform(10, 16)
        start = month.start + day * 86400.0 + hour * 3600.0
        end = start + LASTS_S.get(kind, 1800.0)
        rows = np.flatnonzero(
            (a.subject == person.id) & ~a.band & (a.time >= start) & (a.time < end)
        )
        if not rows.size:
            continue
        before = np.flatnonzero((a.subject == person.id) & ~a.band & (a.time < start))
        gap = float(a.time[rows[0]] - a.time[before[-1]]) if before.size else math.inf
        jump_m = _fake(kind, a, rows, rng)
        episodes.append(Episode(kind, person.id, start, end, jump_m, gap))
    return episodes


def _fake(kind: str, a: Arrivals, rows: NDArray[np.int64], rng: np.random.Generator) -> float:
    """Fake the phone's fixes `rows`; how far a teleport jumped (m), a clock went back (s)."""
    n = rows.shape[0]
    lon0, lat0 = float(a.lon[rows[0]]), float(a.lat[rows[0]])
    k = M_PER_DEG * math.cos(math.radians(lat0))
    jitter = rng.normal(0, 3, (2, n))
    if kind == "clock_back":
        back = float(rng.uniform(600, 7200))
        a.time[rows] -= back
        return back
    if kind == "mock":
        a.mock[rows] = True
        return 0.0
    d = 0.0
    if kind == "teleport":
        d, bearing = rng.uniform(15_000, 300_000), rng.uniform(0, 2 * math.pi)
        lon0 += d * math.cos(bearing) / k
        lat0 += d * math.sin(bearing) / M_PER_DEG
    frozen = kind == "frozen"
    a.lon[rows] = lon0 + (0 if frozen else jitter[0] / k)
    a.lat[rows] = lat0 + (0 if frozen else jitter[1] / M_PER_DEG)
    a.accuracy[rows] = 5.0 if frozen else np.round(rng.uniform(4, 12, n), 1)
    a.gnss[rows] = True
    return float(d)


def judge(a: Arrivals, policy: SuspectPolicy) -> tuple[list[Finding], float]:
    """The findings, minute by minute as ingest judges them, and the seconds it took."""
    device = a.subject * 2 + a.band
    pairs = {int(d): int(d ^ 1) for d in np.unique(device)}
    partner = Partners.of({d: o for d, o in pairs.items() if o in pairs})
    bounds = np.searchsorted(a.minute, np.arange(a.minute.max() + 2))
    checks: Positions = no_checks()
    found: list[Finding] = []
    took = 0.0
    for lo, hi in itertools.pairwise(bounds):
        if hi == lo:
            continue
        rows = np.arange(lo, hi)
        batch = FixBatch(
            subject=a.subject[rows],
            device=device[rows],
            time=a.time[rows],
            lon=a.lon[rows],
            lat=a.lat[rows],
            accuracy=a.accuracy[rows],
            source=[FixSource.GNSS if g else FixSource.WIFI for g in a.gnss[rows].tolist()],
            battery=np.full(hi - lo, -1, np.int16),
            seq=a.seq[rows],
            received=a.time[rows],
            mock=a.mock[rows],
        )
        t0 = time.perf_counter()
        new, moved = suspect_findings(batch, checks, partner=partner, policy=policy)
        checks = checks.newer(moved)
        took += time.perf_counter() - t0
        found += new
    return found, took


def _key(f: Finding) -> str:
    return f.message.key if isinstance(f.message, Text) else str(f.message)


def caught(e: Episode, found: list[Finding], policy: SuspectPolicy) -> bool:
    """Raised by its own signal on the phone, while it lasted or within the confirmation
    after (a clock set back: at a time as far back as it was set)."""
    late = policy.confirm_s + 600.0
    early = 7200.0 if e.kind == "clock_back" else 0.0
    return any(
        f.subject_id == e.subject
        and f.device_id == e.subject * 2
        and _key(f) == SIGNAL[e.kind]
        and e.start - early <= f.time <= e.end + late
        for f in found
    )


def _first(a: Arrivals, n: int) -> Arrivals:
    return Arrivals(**{k: v[:n].copy() for k, v in a.__dict__.items()})


def went_away(month: Month, e: Episode, a: Arrivals) -> bool:
    """Did the subject go 1 km or more from the phone's spot while it kept still?"""
    person = next(i for i, p in enumerate(month.people) if p.id == e.subject)
    rows = np.flatnonzero((a.subject == e.subject) & ~a.band & (a.time >= e.start))
    spot = np.array(month.where(float(a.time[rows[0]]) if rows.size else e.start)[person])
    far = 0.0
    for t in np.arange(e.start, e.end, 300.0):
        far = max(far, float(np.hypot(*(month.where(float(t))[person] - spot))))
    return far >= 1000.0


def _plain_loop(a: Arrivals) -> float:
    """The peer: a plain Python loop over the fixes doing the least a check does (the
    distance from each device's fix before)."""
    t0 = time.perf_counter()
    last: dict[int, tuple[float, float]] = {}
    total = 0.0
    columns = (a.subject.tolist(), a.band.tolist(), a.lon.tolist(), a.lat.tolist())
    for s, b, x, y in zip(*columns, strict=True):
        d = s * 2 + b
        px, py = last.get(d, (x, y))
        total += math.hypot(x - px, y - py)
        last[d] = (x, y)
    return time.perf_counter() - t0


def real_trace(realdata: Path) -> FixBatch:
    """The real phone trace (`realdata/trajectories`): one phone, numbered as written."""
    with (realdata / "trajectories" / "posmo_trajectory.csv").open() as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    when = np.array([datetime.fromisoformat(r["tracked_at"] + "+00:00").timestamp() for r in rows])
    n = when.shape[0]
    return FixBatch(
        subject=np.ones(n, np.int64),
        device=np.full(n, 1, np.int64),
        time=when,
        lon=np.array([float(r["longitude"]) for r in rows]),
        lat=np.array([float(r["latitude"]) for r in rows]),
        # 0 is what the app writes when it has no accuracy: counted as a GNSS fix's 10 m
        accuracy=np.array([float(r["accuracy"]) or 10.0 for r in rows]),
        source=[FixSource.GNSS] * n,
        battery=np.full(n, -1, np.int16),
        seq=np.arange(n, dtype=np.int64),
        received=when,
        mock=np.zeros(n, np.bool_),
    )


def _real_trace(policy: SuspectPolicy) -> str:
    if not (REAL_DATA / "trajectories").is_dir():
        return "not here (../shared/realdata is only in the development workspace)"
    trace = real_trace(REAL_DATA)
    found = 0
    checks: Positions = no_checks()
    for lo in range(0, len(trace), 10):  # ten fixes a batch, about a minute's
        rows = np.arange(lo, min(lo + 10, len(trace)))
        new, moved = suspect_findings(
            trace.take(rows), checks, partner=Partners.of({}), policy=policy
        )
        found, checks = found + len(new), checks.newer(moved)
    return f"{found} findings over {len(trace):,} fixes (52 minutes on a train)"


def run(*, subjects: int, days: int, seed: int, share: float, policy: SuspectPolicy) -> None:
    month = Month(subjects=subjects, days=days, start=START, seed=seed, plant_share=0.0)
    plain = arrivals(month)
    faked = plain.copy()
    episodes = plant(month, faked, share, np.random.default_rng(seed), policy)
    judge(_first(plain, 1000), policy)  # compiled (or loaded from numba's cache) first
    found, took = judge(plain, policy)
    fixes = int(plain.time.shape[0])
    whole = _first(plain, 50_000)
    whole.minute[:] = 0
    _, once = judge(whole, policy)
    by_signal: dict[str, int] = {}
    for f in found:
        by_signal[_key(f)] = by_signal.get(_key(f), 0) + 1
    print(f"the county's ordinary month: {subjects:,} subjects x {days} days, {fixes:,} fixes")
    print_table(
        [
            (
                "  false alarms per subject-day (target <= 0.01)",
                f"{len(found) / (subjects * days):.4f} ({len(found)}: {by_signal or 'none'})",
            ),
            ("  ours: the rule, a minute a batch", f"{took / fixes * 1e6:.2f} us a fix"),
            (
                "  ours: the rule, 50,000 fixes a batch",
                f"{once / whole.time.shape[0] * 1e6:.2f} us a fix",
            ),
            ("  peer: a plain Python loop", f"{_plain_loop(plain) / fixes * 1e6:.2f} us a fix"),
            ("  the real phone trace", _real_trace(policy)),
        ]
    )
    planted, _ = judge(faked, policy)
    print(f"\nwith {len(episodes)} faking episodes planted on phones:")
    rows = []
    for kind in KINDS:
        mine = [e for e in episodes if e.kind == kind]
        if kind == "still":  # where the subject went away
            mine = [e for e in mine if went_away(month, e, faked)]
        missed = [e for e in mine if not caught(e, planted, policy)]
        hit = len(mine) - len(missed)
        said = f"{hit / max(len(mine), 1):.3f} ({hit} of {len(mine)})"
        if kind == "teleport" and missed:
            near = sum(e.jump_m <= policy.max_speed_mps * e.gap_s for e in missed)
            said += f"; of the missed, {near} jumped less than max speed x the fix interval"
        if kind == "clock_back" and missed:
            near = sum(e.jump_m <= policy.clock_drift_s + e.gap_s for e in missed)
            said += f"; of the missed, {near} went back less than drift + the fix interval"
        rows.append((f"  recall: {kind}", said))
    print_table(rows)
