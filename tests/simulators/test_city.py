"""The synthetic city is plausible: valid districts (one with an enclave), homes inside,
readings whose error matches what the device claims."""

from __future__ import annotations

import math
import random

from shapely.geometry import Point, Polygon

from simulators import generate_city
from simulators.movement import indoors, observed, true_position


def test_districts_are_valid_one_has_a_hole_and_everyone_lives_inside() -> None:
    city = generate_city(11)
    zones = [Polygon(d.ring, [d.hole] if d.hole else []) for d in city.districts]
    assert all(z.is_valid for z in zones)
    assert [len(z.interiors) for z in zones] == [0, 0, 0, 1]
    assert all(len(z.exterior.coords) > 100 for z in zones)
    for i, s in enumerate(city.subjects):
        zone = zones[s.district]
        for t in range(0, 3600, 60):
            if s.leaves_after_s is None:
                assert zone.contains(Point(true_position(city, s, i, float(t)))), (s.name, t)


def test_readings_stay_mostly_within_their_claimed_accuracy() -> None:
    rng = random.Random(3)
    k = 111_195.0 * math.cos(math.radians(30.6))
    for inside, gnss_only, sources in (
        (False, False, {"gnss"}),
        (True, False, {"wifi", "cell"}),
        (True, True, {"gnss"}),
    ):
        readings = [
            observed(rng, (104.0, 30.6), inside_building=inside, gnss_only=gnss_only)
            for _ in range(2000)
        ]
        assert {r.source for r in readings} == sources
        errors = [math.hypot((r.lon - 104.0) * k, (r.lat - 30.6) * 111_195.0) for r in readings]
        within = sum(e <= r.accuracy for e, r in zip(errors, readings, strict=True)) / len(errors)
        assert within > 0.8  # a few outliers (multipath) claim more than they deliver


def test_home_is_indoors_and_the_street_is_not() -> None:
    city = generate_city(11)
    s = city.subjects[5]
    assert indoors(s, s.home)
    assert not indoors(s, (s.home[0] + 0.01, s.home[1]))


def test_only_the_scripted_visitor_comes_near_a_school() -> None:
    city = generate_city(11)
    schools = [Point(d.school).buffer(0.003) for d in city.districts]  # ~300 m: well clear
    visitors = [s for s in city.subjects if s.visits_school_after_s is not None]
    assert len(visitors) == 1
    for i, s in enumerate(city.subjects):
        for t in range(0, 3600, 30):
            near = schools[s.district].contains(Point(true_position(city, s, i, float(t))))
            if s.visits_school_after_s is None:
                assert not near, (s.name, t)
            elif t >= 60:
                assert near
