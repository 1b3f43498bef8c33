"""Frequent places, pure: a stay overlaps the night exactly when some minute of it is in the
night's hours, whatever the hours; stays cluster into places that hold each stay once, no two
places founded within the radius."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.places import Dwell, Night, places
from geofence import haversine
from tests.helpers import offset

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 1, tzinfo=UTC)


@settings(max_examples=300)
@given(
    start_min=st.integers(0, 3 * 1440),
    length_min=st.integers(1, 2 * 1440),
    starts_h=st.integers(1, 24),
    ends_h=st.integers(1, 24),
)
def test_a_stay_overlaps_the_night_when_a_minute_of_it_is_in_the_nights_hours(
    start_min: int, length_min: int, starts_h: int, ends_h: int
) -> None:
    start = T0 + timedelta(minutes=start_min)
    end = start + timedelta(minutes=length_min)
    night = Night(float(starts_h), float(ends_h))

    def in_night(t: datetime) -> bool:
        h = t.astimezone(SHANGHAI).hour + t.astimezone(SHANGHAI).minute / 60
        s, e = starts_h % 24, ends_h % 24
        return s <= h < e if s < e else (h >= s or h < e) and s != e

    # a stay of [start, end] overlaps when a moment strictly inside it is in the night
    minutes = [start + timedelta(minutes=m + 0.5) for m in range(length_min)]
    assert night.overlaps(start, end, SHANGHAI) == any(in_night(t) for t in minutes)


@settings(max_examples=200)
@given(
    stays=st.lists(
        st.tuples(
            st.floats(-2000, 2000),
            st.floats(-2000, 2000),
            st.integers(0, 2000),
            st.integers(10, 600),
        ),
        max_size=40,
    )
)
def test_every_stay_is_in_one_place_and_no_two_places_were_founded_within_the_radius(
    stays: list[tuple[float, float, int, int]],
) -> None:
    dwells = []
    for east, north, start_min, length_min in stays:
        lon, lat = offset(east, north)
        start = T0 + timedelta(minutes=start_min)
        dwells.append(Dwell(start, start + timedelta(minutes=length_min), lon, lat))
    found = places(dwells, radius_m=150.0, night=Night(), tz=SHANGHAI)
    assert sorted(k for p in found for k in p.stays) == list(range(len(dwells)))
    assert sum(p.visits for p in found) == len(dwells)
    hours = [p.hours for p in found]
    assert hours == sorted(hours, reverse=True)
    founders = []
    for p in found:
        members = [dwells[k] for k in p.stays]
        assert p.hours == np.float64(
            sum((d.ends_at - d.starts_at).total_seconds() for d in members) / 3600
        )
        # each member within the radius of the place's founder (its longest stay)
        founder = max(members, key=lambda d: d.ends_at - d.starts_at)
        assert all(
            haversine(founder.lon, founder.lat, d.lon, d.lat) <= 150.0 + 1e-6 for d in members
        )
        founders.append(founder)
    for i, a in enumerate(founders):
        assert all(haversine(a.lon, a.lat, b.lon, b.lat) > 150.0 for b in founders[i + 1 :])
