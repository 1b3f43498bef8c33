"""Stay points against labelled data: the simulated county's ordinary days (their true stops
are known) and a real phone trace labelled by hand."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.stays import StayPolicy, scan, stays
from ccmon.bench.stays import county_quality
from ccmon.bench.suspect import real_trace

if TYPE_CHECKING:
    from pathlib import Path

M_PER_DEG = 111_195.0

POLICY = StayPolicy()


def test_the_countys_stays_are_found_with_precision_and_recall_of_at_least_90_percent() -> None:
    q = county_quality(subjects=30, days=3, seed=4, policy=POLICY)
    assert q.stops > 100  # homes, workplaces, errands, towns: something to find
    assert q.precision >= 0.9, q
    assert q.recall >= 0.9, q


def test_a_drive_a_walk_past_and_a_thrown_fix_make_one_stay_only() -> None:
    """Home for 30 minutes (Wi-Fi, and one reflection 150 m off claiming 5 m), a 20-minute
    walk at 1.4 m/s, then a shop with a 43-minute silence in it: two stays (the walk's first
    fix, 84 m from home, still home), the shop's not cut by the silence (within the limit)."""
    t = np.arange(0, 1800, 60.0)
    home = [(float(v), 0.0, 0.0, 40.0) for v in t]
    home[10] = (600.0, 150.0, 0.0, 5.0)
    walk = [(1800 + s, 1.4 * s, 0.0, 8.0) for s in np.arange(60, 1200, 60.0)]
    shop_x = 1.4 * 1200
    shop = [(3000 + s, shop_x + 5, 3.0, 15.0) for s in (0, 60, 120, 2700, 2760, 2820, 2880)]
    fixes = np.array(home + walk + shop)
    found = stays(fixes[:, 0], fixes[:, 1], fixes[:, 2], fixes[:, 3], POLICY)
    assert [(s.start, s.end) for s in found] == [(0.0, 1860.0), (3000.0, 5880.0)]
    assert found[0].fixes == 30  # the thrown fix is not part of it
    assert abs(found[0].x) < 20
    assert abs(found[1].x - shop_x - 5) < 1


def test_a_silence_past_the_limit_ends_a_stay() -> None:
    t = np.array([0.0, 300, 600, 900, 900 + 3700, 900 + 4000, 900 + 4300])
    found = stays(t, np.zeros(7), np.zeros(7), np.full(7, 10.0), StayPolicy(min_s=600))
    assert [(s.start, s.end) for s in found] == [(0.0, 900.0), (4600.0, 5200.0)]


# A subject's day as hypothesis sees it: each fix some seconds after the last (now and then
# after a long silence), near the last place or jumped away, as accurate as GNSS or a cell.
_fix = st.tuples(
    st.sampled_from([1.0, 30.0, 60.0, 300.0, 900.0, 4000.0]),
    st.sampled_from([0.0, 0.0, 0.0, 20.0, 90.0, 250.0, 2000.0]),
    st.floats(0, 2 * math.pi),
    st.sampled_from([5.0, 10.0, 40.0, 150.0, 800.0]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_fix, max_size=80), st.data())
def test_a_scan_resumed_where_it_says_finds_what_one_scan_of_all_the_fixes_finds(
    steps: list[tuple[float, float, float, float]], data: st.DataObject
) -> None:
    """The incremental job's premise: scanning the fixes so far, then scanning again from
    `resume` once more have come, gives the stays of one scan over all of them."""
    time = np.cumsum([s[0] for s in steps])
    x = np.cumsum([s[1] * math.cos(s[2]) for s in steps])
    y = np.cumsum([s[1] * math.sin(s[2]) for s in steps])
    accuracy = np.array([s[3] for s in steps])
    policy = StayPolicy(min_s=300)
    whole = scan(time, x, y, accuracy, policy)
    cut = data.draw(st.integers(0, len(steps)))
    first = scan(time[:cut], x[:cut], y[:cut], accuracy[:cut], policy)
    r = first.resume
    rest = scan(time[r:], x[r:], y[r:], accuracy[r:], policy)
    assert [*first.closed, *rest.closed] == whole.closed
    assert rest.current == whole.current
    assert rest.resume + r == whole.resume or len(steps) == 0


# The real trace (52 minutes, one person, Switzerland) labelled by inspection: a journey by
# train or car from 47.05 N 7.04 E to 46.52 N 6.63 E, moving 0.2-4.5 km every minute but for
# three halts: minutes 6-7 (about 2 minutes, within 10 m), minute 16 (under a minute, 46 m)
# and minute 25 (about a minute): none lasts the 10 minutes a stay needs. True stays: none.
REAL_TRACE_STAYS: list[tuple[float, float]] = []


def test_the_real_trace_has_the_stays_labelled_by_hand(realdata: Path) -> None:
    trace = real_trace(realdata)  # an accuracy of 0 (none written) counted as 10 m
    when = trace.time
    order = np.argsort(when, kind="stable")
    lon, lat, accuracy = trace.lon[order], trace.lat[order], trace.accuracy[order]
    k = M_PER_DEG * math.cos(math.radians(lat[0]))
    found = stays(when[order], (lon - lon[0]) * k, (lat - lat[0]) * M_PER_DEG, accuracy, POLICY)
    assert [(s.start - when.min(), s.end - when.min()) for s in found] == REAL_TRACE_STAYS
    # and the halts are found when a stay needs only one minute (the labels are real)
    short = stays(
        when[order],
        (lon - lon[0]) * k,
        (lat - lat[0]) * M_PER_DEG,
        accuracy,
        StayPolicy(min_s=60),
    )
    assert len(short) >= 1
