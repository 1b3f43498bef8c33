"""`ccmon bench rules`: the rules' share of the hot path, without I/O.

A county of subjects, each strict (严管) with a phone and a wristband, one shared district
and one exclusion circle each, all under an order. Batches carry fixes of both devices of
random subjects: most inside and together, 2% of subjects out of the district, 2% with the
phone left behind. Stages are timed separately, best of several batches: the order check,
the geofence, the rules over the batch (zone + separation), prohibition orders' proximity
(1,000 protected persons, each protected from 1-3 subjects, reporting once a batch; 2,000
pairs of subjects who must not meet) and a clock tick (silence, curfew start, leave end,
order reminders).
"""

from __future__ import annotations

import gc
import math
import time
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from alerts import Memory, Registry, RuleBook
from alerts.proximity import Pairs, ProximityState, proximity_findings
from alerts.tracks import no_tracks
from ccmon.bench.common import print_table
from domain import (
    Assignment,
    Device,
    DeviceKind,
    FixBatch,
    MonitoringOrder,
    Party,
    Prohibition,
    SupervisionLevel,
    Zone,
    ZoneRole,
)
from geofence import ZoneIndex

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from domain import LevelPolicy

T = TypeVar("T")

_CENTRE = (104.066, 30.657)
_M_PER_DEG = 111_195.08
_DISTRICT_R_M = 15_000.0


def _county(subjects: int, now: float, policy: Mapping[SupervisionLevel, LevelPolicy]) -> RuleBook:
    k = _M_PER_DEG * math.cos(math.radians(_CENTRE[1]))
    a = np.linspace(0, 2 * math.pi, 400, endpoint=False)
    r = _DISTRICT_R_M * (1 + 0.15 * np.sin(5 * a))
    ring = [
        [_CENTRE[0] + x / k, _CENTRE[1] + y / _M_PER_DEG]
        for x, y in zip(r * np.cos(a), r * np.sin(a), strict=True)
    ]
    zones = [Zone(0, "district", {"type": "Polygon", "coordinates": [[*ring, ring[0]]]})]
    assignments, devices, orders = [], [], []
    rng = np.random.default_rng(7)
    for s in range(1, subjects + 1):
        e, n = rng.uniform(-8000, 8000, 2)
        zones.append(
            Zone(
                s,
                "exclusion",
                {
                    "type": "Circle",
                    "center": [_CENTRE[0] + e / k, _CENTRE[1] + n / _M_PER_DEG],
                    "radius_m": 200.0,
                },
            )
        )
        assignments += [
            Assignment(2 * s, s, 0, ZoneRole.INCLUSION),
            Assignment(2 * s + 1, s, s, ZoneRole.EXCLUSION),
        ]
        devices += [
            Device(2 * s, f"ph-{s}", DeviceKind.PHONE, s, active=True),
            Device(2 * s + 1, f"wb-{s}", DeviceKind.WRISTBAND, s, active=True),
        ]
        orders.append(MonitoringOrder(s, s, now - 86400, now + 60 * 86400))
    registry = Registry.build(
        ZoneIndex.build(zones, assignments),
        devices=devices,
        assignments=assignments,
        orders=orders,
        leaves=[],
        levels=dict.fromkeys(range(1, subjects + 1), SupervisionLevel.STRICT),
        policy=policy,
    )
    return RuleBook(registry, Memory(), watching_since=now)


def _batch(subjects: int, fixes: int, t0: float, rng: np.random.Generator) -> FixBatch:
    subject = rng.integers(1, subjects + 1, fixes // 2)
    subject = np.repeat(subject, 2)  # a phone fix and a wristband fix of each
    wristband = np.tile([False, True], fixes // 2)
    k = _M_PER_DEG * math.cos(math.radians(_CENTRE[1]))
    east = (subject * 37 % 16_000 - 8000).astype(np.float64) + rng.normal(0, 20, subject.shape[0])
    north = (subject * 53 % 16_000 - 8000).astype(np.float64) + rng.normal(0, 20, subject.shape[0])
    out = subject % 50 == 0  # 2%: out of the district
    east[out] += 30_000
    behind = (subject % 50 == 1) & ~wristband  # 2%: the phone left 1 km behind
    east[behind] += 1000
    n = subject.shape[0]
    time = t0 + np.sort(rng.uniform(0, 5, n))
    return FixBatch.measured(
        subject,
        time,
        _CENTRE[0] + east / k,
        _CENTRE[1] + north / _M_PER_DEG,
        np.full(n, 10.0),
        device=2 * subject + wristband,
    )


_PROTECTED = 1000
_PROHIBITED = 2000


def _prohibitions(subjects: int, rng: np.random.Generator) -> list[Prohibition]:
    out: list[Prohibition] = []
    for p in range(1, _PROTECTED + 1):
        for s in rng.choice(subjects, int(rng.integers(1, 4)), replace=False) + 1:
            out.append(Prohibition(len(out) + 1, int(s), p, Party.PROTECTED, 500.0))
    for a, b in rng.integers(1, subjects + 1, (_PROHIBITED, 2)).tolist():
        if a != b:
            out.append(Prohibition(len(out) + 1, a, b, Party.SUBJECT, 200.0, for_s=60.0))
    return out


def _protected_fixes(t0: float, rng: np.random.Generator) -> FixBatch:
    """Each protected person's phone once a batch, somewhere in the county."""
    n = _PROTECTED
    k = _M_PER_DEG * math.cos(math.radians(_CENTRE[1]))
    return FixBatch.measured(
        np.arange(1, n + 1, dtype=np.int64),
        t0 + rng.uniform(0, 5, n),
        _CENTRE[0] + rng.uniform(-8000, 8000, n) / k,
        _CENTRE[1] + rng.uniform(-8000, 8000, n) / _M_PER_DEG,
        np.full(n, 15.0),
    )


def _timed(fn: Callable[[], T], times: list[float]) -> T:
    """Call `fn`, adding how long it took to `times`."""
    t0 = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - t0)
    return result


def run(
    *, subjects: int, fixes: int, batches: int, policy: Mapping[SupervisionLevel, LevelPolicy]
) -> None:
    now = time.time()
    t0 = time.perf_counter()
    rules = _county(subjects, now, policy)
    build_s = time.perf_counter() - t0
    gc.freeze()  # as the pipeline does after loading its registry
    rng = np.random.default_rng(1)
    order_t: list[float] = []
    geo_t: list[float] = []
    judge_t: list[float] = []
    near_t: list[float] = []
    tick_t: list[float] = []
    findings = 0
    pairs = Pairs.build(_prohibitions(subjects, rng))
    near, tracks = ProximityState(), no_tracks()
    for i in range(batches):
        batch = _batch(subjects, fixes, now + 10 * i, rng)
        protected = _protected_fixes(now + 10 * i, rng)
        _timed(partial(rules.registry.orders.covered, batch.subject, batch.time), order_t)
        ev = _timed(partial(rules.registry.index.evaluate, batch), geo_t)
        verdict = _timed(partial(rules.judge, batch, ev), judge_t)
        rules.apply(verdict, versions={})
        found, moved, moved_tracks = _timed(
            partial(
                proximity_findings,
                batch,
                protected,
                near,
                tracks,
                pairs=pairs,
                policies=rules.registry.policies,
            ),
            near_t,
        )
        near, tracks = near.updated(moved), tracks.newer(moved_tracks)
        findings += len(found)
        clock = now + 10 * i + 5
        tick = _timed(partial(rules.tick, clock), tick_t)
        rules.apply(tick, versions={}, now=clock)
        findings += len(verdict.findings) + len(tick.findings)
    ms = 1000
    total = min(order_t) + min(geo_t) + min(judge_t) + min(near_t)
    rows = [
        ("subjects (phone + wristband each) / fixes per batch", f"{subjects:,} / {fixes:,}"),
        ("county built (zones compiled, registry)", f"{build_s:.1f} s"),
        (f"order check, best of {batches}", f"{min(order_t) * ms:,.1f} ms"),
        ("geofence", f"{min(geo_t) * ms:,.1f} ms"),
        (
            "rules over the batch (zone + early warning + separation)",
            f"{min(judge_t) * ms:,.1f} ms",
        ),
        (
            f"proximity ({_PROTECTED:,} protected persons, {len(pairs.id):,} pairs)",
            f"{min(near_t) * ms:,.1f} ms",
        ),
        ("clock tick (silence, curfew, leaves, reminders)", f"{min(tick_t) * ms:,.1f} ms"),
        ("fixes/s through order check + geofence + rules + proximity", f"{fixes / total:,.0f}"),
        ("findings over all batches", f"{findings:,}"),
    ]
    print_table(rows)
