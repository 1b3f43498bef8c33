"""Who was there then: the judgement against a brute-force oracle over every fix and gap."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, mapping

from domain import HORIZON_S, Around, Verdict
from geofence import EARTH_RADIUS_M, ZoneError
from geofence.whereabouts import Area, judge
from tests.geofence.test_evaluate import star

LON0, LAT0 = 104.06, 30.66
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180
KX = M_PER_DEG * math.cos(math.radians(LAT0))
SINCE, UNTIL = 1_800_000_000.0, 1_800_003_600.0


@dataclass(frozen=True)
class Fix:
    subject: int
    time: float
    x: float  # metres east of (LON0, LAT0)
    y: float
    accuracy: float


def around(fixes: list[Fix], drop: int = 0) -> Around:
    """Every fix, as a store that keeps all of them would give them; with `drop`, some of
    those before the last before the window and after the first after it left out (as a
    store may: each row still carries its true next fix), chosen by that seed."""
    fixes = sorted(fixes, key=lambda f: (f.subject, f.time))
    n = len(fixes)
    subject = np.array([f.subject for f in fixes], dtype=np.int64)
    same_next = np.zeros(n, dtype=np.bool_)
    same_next[:-1] = subject[1:] == subject[:-1] if n else same_next[:-1]
    has_previous = np.zeros(n, dtype=np.bool_)
    has_previous[1:] = same_next[:-1]
    lon = np.array([LON0 + f.x / KX for f in fixes])
    lat = np.array([LAT0 + f.y / M_PER_DEG for f in fixes])
    t = np.array([f.time for f in fixes])
    acc = np.array([f.accuracy for f in fixes])

    def following(a: np.ndarray) -> np.ndarray:
        out = np.full(n, np.nan)
        out[:-1] = a[1:]
        out[~same_next] = np.nan
        return out

    device = np.arange(n, dtype=np.int64)
    inside = (t >= SINCE) & (t <= UNTIL)
    counts = {s: int(np.sum(inside & (subject == s))) for s in set(subject.tolist())}
    next_time = following(t)
    previous_time = np.full(n, np.nan)
    previous_time[1:] = t[:-1]
    previous_time[~has_previous] = np.nan
    edge = ((t < SINCE) & ~(next_time < SINCE)) | ((t > UNTIL) & ~(previous_time > UNTIL))
    keep = inside | edge | (np.random.default_rng(drop).random(n) < 0.5 if drop else True)
    return Around(
        subject=subject[keep],
        device=device[keep],
        time=t[keep],
        lon=lon[keep],
        lat=lat[keep],
        accuracy=acc[keep],
        has_previous=has_previous[keep],
        next_device=np.where(same_next, device + 1, -1)[keep],
        next_time=next_time[keep],
        next_lon=following(lon)[keep],
        next_lat=following(lat)[keep],
        next_accuracy=following(acc)[keep],
        in_window=np.array([counts[s] for s in subject.tolist()], dtype=np.int64)[keep],
    )


def oracle(
    area: Polygon,
    fixes: list[Fix],
    speed: float,
    slack: float,
    window: tuple[float, float] = (SINCE, UNTIL),
) -> dict[int, Verdict]:
    """Each subject's verdict from every fix within the horizon of the window, each fix and
    each gap between two looked at in turn; distances taken `slack` (a fraction, and 100
    times as many metres) nearer (slack < 0: farther) than the plane says: the true answer
    lies between. Subjects without such a fix are left out."""
    since, until = window
    near = [f for f in fixes if since - HORIZON_S <= f.time <= until + HORIZON_S]
    out: dict[int, Verdict] = {}
    for s in sorted({f.subject for f in near}):
        mine = sorted((f for f in near if f.subject == s), key=lambda f: f.time)
        status, excess = [], []
        for f in mine:
            p = Point(f.x, f.y)
            if area.contains(p):
                depth = area.boundary.distance(p) * (1 + slack) + slack * 100
                status.append("in" if depth >= f.accuracy else "reaches")
                excess.append(0.0)
            else:
                d = area.distance(p) * (1 - slack) - slack * 100
                status.append("reaches" if d <= f.accuracy else "out")
                excess.append(max(d - f.accuracy, 0.0) if d > f.accuracy else 0.0)
        within = [since <= f.time <= until for f in mine]
        verdict = Verdict.WAS_ELSEWHERE
        for i, f in enumerate(mine):
            if within[i] and status[i] == "in":
                verdict = Verdict.WAS_THERE
                break
            reach = excess[i] / speed
            if within[i] and status[i] == "reaches":
                verdict = Verdict.MAY_HAVE_BEEN_THERE
            if i + 1 < len(mine):
                nxt = mine[i + 1]
                lo, hi = max(since, f.time + reach), min(until, nxt.time - excess[i + 1] / speed)
            else:
                lo, hi = max(since, f.time + reach), until
            if lo <= hi:
                verdict = Verdict.MAY_HAVE_BEEN_THERE
            if i == 0 and f.time > since and since <= min(until, f.time - reach):
                verdict = Verdict.MAY_HAVE_BEEN_THERE
        out[s] = verdict
    return out


@st.composite
def areas(draw: st.DrawFn) -> tuple[dict[str, object], Polygon]:
    """The area as GeoJSON, and as a polygon in the plane's metres for the oracle."""
    if draw(st.booleans()):
        r = draw(st.floats(30, 1500))
        return (
            {"type": "Circle", "center": [LON0, LAT0], "radius_m": r},
            Point(0, 0).buffer(r, quad_segs=256),
        )
    scale = draw(st.floats(100, 1500))
    radii = draw(st.lists(st.floats(0.4, 1.0), min_size=3, max_size=12))
    geom = star(LON0, LAT0, scale, radii, draw(st.floats(0, 2 * math.pi)))
    assume(geom.is_valid)
    plane = Polygon([((x - LON0) * KX, (y - LAT0) * M_PER_DEG) for x, y in geom.exterior.coords])
    return mapping(geom), plane


fix_times = st.floats(SINCE - HORIZON_S, UNTIL + HORIZON_S).map(round)
fixes_of = st.builds(
    Fix,
    subject=st.integers(1, 4),
    time=fix_times,
    x=st.floats(-4000, 4000),
    y=st.floats(-4000, 4000),
    accuracy=st.sampled_from([3.0, 10.0, 30.0, 100.0, 500.0]) | st.floats(1, 2000),
)


@settings(max_examples=300, deadline=None)
@given(areas(), st.lists(fixes_of, max_size=30), st.floats(1, 40), st.integers(0, 3))
def test_the_judgement_agrees_with_every_fix_and_gap_looked_at_one_by_one(
    area: tuple[dict[str, object], Polygon], fixes: list[Fix], speed: float, drop: int
) -> None:
    assume(len({(f.subject, f.time) for f in fixes}) == len(fixes))
    geometry, plane = area
    near, far = oracle(plane, fixes, speed, 0.003), oracle(plane, fixes, speed, -0.003)
    assume(near == far)  # nothing within a rounding of an edge
    answer = judge(
        Area.of(geometry), around(fixes, drop), since=SINCE, until=UNTIL, max_speed=speed
    )
    got = {int(s): Verdict(int(v)) for s, v in zip(answer.subject, answer.verdict, strict=True)}
    assert got == near


def test_a_walk_past_at_a_distance_is_elsewhere_and_a_long_gap_is_not() -> None:
    """A subject seen every minute 2 km away was elsewhere; one seen 2 km away before and
    after a 20-minute gap may have been there (at 5 m/s the 1.9 km take 6 minutes each way)."""
    circle = {"type": "Circle", "center": [LON0, LAT0], "radius_m": 100}
    steady = [Fix(1, SINCE - 60 + 60 * i, 2000.0, 0.0, 10.0) for i in range(63)]
    gap = [Fix(2, SINCE + 600, 2000.0, 0.0, 10.0), Fix(2, SINCE + 1800, 2000.0, 10.0, 10.0)]
    inside = [Fix(3, SINCE + 900, 10.0, 0.0, 10.0)]
    answer = judge(
        Area.of(circle), around(steady + gap + inside), since=SINCE, until=UNTIL, max_speed=5.0
    )
    assert answer.verdict.tolist() == [
        Verdict.WAS_ELSEWHERE,
        Verdict.MAY_HAVE_BEEN_THERE,
        Verdict.WAS_THERE,
    ]
    # what decides each: the nearest fix; the gap's first end; the fix inside
    assert answer.gap_to_next.tolist() == [False, True, False]
    assert answer.distance[answer.row].round().tolist() == [1900.0, 1900.0, 0.0]


def test_an_area_the_zones_would_refuse_is_refused_with_the_reason() -> None:
    with pytest.raises(ZoneError, match="radius_m"):
        Area.of({"type": "Circle", "center": [LON0, LAT0], "radius_m": -5})
