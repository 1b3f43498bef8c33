"""The synthetic city is plausible: valid districts (one with an enclave), everyone's day
inside their district (bar those whose scenario takes them out), readings whose error matches
what the device claims, indoor gaps for GNSS-only devices."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
from shapely.geometry import Point, Polygon

from alerts import Policies
from alerts.heading import heading_findings
from alerts.tracks import no_tracks
from domain import (
    DEFAULT_LEVELS,
    Assignment,
    FixBatch,
    RunStates,
    SupervisionLevel,
    Zone,
    ZoneRole,
)
from geofence import ZoneIndex
from simulators import DEMO_SCENARIOS, Kind, Scenario, generate_city
from simulators.movement import DAY_S, Place, observed, phone_whereabouts, whereabouts

LEAVING = {Kind.WALK_OUT, Kind.LATE_RETURN}


def test_districts_are_valid_one_has_a_hole_and_everyone_stays_inside() -> None:
    city = generate_city(11, scenarios=DEMO_SCENARIOS)
    zones = [Polygon(d.ring, [d.hole] if d.hole else []) for d in city.districts]
    assert all(z.is_valid for z in zones)
    assert [len(z.interiors) for z in zones] == [0, 0, 0, 1]
    assert all(len(z.exterior.coords) > 100 for z in zones)
    for i, s in enumerate(city.subjects):
        if s.scenario is not None and s.scenario.kind in LEAVING:
            continue
        for t in range(0, int(DAY_S), 20):
            position = whereabouts(city, s, i, float(t)).position
            assert zones[s.district].contains(Point(position)), (s.name, s.label, t)


def test_an_ordinary_day_goes_to_work_and_back_at_town_speed() -> None:
    city = generate_city(11)
    s = city.subjects[20]
    midnight = (DAY_S - 20 * 137.0) % DAY_S  # each subject's day is shifted by its index
    places = [whereabouts(city, s, 20, midnight + t) for t in range(0, int(DAY_S), 5)]
    assert places[0] == Place(s.home, indoors=True)
    assert any(not p.indoors for p in places)  # on the road at some point
    k = 111_195.0 * math.cos(math.radians(30.6))
    steps = [
        math.hypot((b.position[0] - a.position[0]) * k, (b.position[1] - a.position[1]) * 111_195)
        for a, b in itertools.pairwise(places)
    ]
    assert max(steps) <= 10.0 * 5 + 1  # never faster than 10 m/s
    assert whereabouts(city, s, 20, midnight + DAY_S * 0.45) == Place(s.work, indoors=True)


def test_readings_stay_mostly_within_their_claimed_accuracy() -> None:
    rng = random.Random(3)
    k = 111_195.0 * math.cos(math.radians(30.6))
    for inside, gnss_only, sources in (
        (False, False, {"gnss"}),
        (True, False, {"wifi", "cell"}),
        (True, True, {"gnss"}),
    ):
        tries = [
            observed(rng, (104.0, 30.6), inside_building=inside, gnss_only=gnss_only)
            for _ in range(2000)
        ]
        readings = [r for r in tries if r is not None]
        assert {r.source for r in readings} == sources
        errors = [math.hypot((r.lon - 104.0) * k, (r.lat - 30.6) * 111_195.0) for r in readings]
        within = sum(e <= r.accuracy for e, r in zip(errors, readings, strict=True)) / len(errors)
        assert within > 0.8  # a few outliers (multipath) claim more than they deliver
        gaps = (len(tries) - len(readings)) / len(tries)
        assert (0.5 < gaps < 0.7) if inside and gnss_only else gaps == 0


def test_only_the_school_visitor_comes_near_a_school() -> None:
    city = generate_city(11, scenarios=DEMO_SCENARIOS)
    schools = [Point(d.school).buffer(0.0025) for d in city.districts]  # ~250 m: well clear
    for i, s in enumerate(city.subjects):
        visitor = s.scenario is not None and s.scenario.kind is Kind.HEADS_FOR_SCHOOL
        for t in range(0, int(DAY_S), 30):
            near = schools[s.district].contains(Point(whereabouts(city, s, i, float(t)).position))
            if not visitor:
                assert not near, (s.name, s.label, t)
            elif t >= s.scenario.after_s + 55:  # type: ignore[union-attr]
                assert near


def test_a_phone_left_at_home_stays_there_while_its_owner_leaves() -> None:
    city = generate_city(2, scenarios=(Scenario(Kind.PHONE_LEFT_HOME, after_s=10.0),))
    s = city.subjects[0]
    assert [d.kind for d in s.devices] == ["phone", "wristband"]
    assert phone_whereabouts(city, s, 0, 500.0).position == s.home
    person = whereabouts(city, s, 0, 500.0).position
    assert abs(person[1] - s.home[1]) * 111_195 > 700


def test_only_the_school_visitor_is_warned_of_heading_for_a_school() -> None:
    """Ordinary roads never lead at a school; the one passing it on a road 150 m away is not
    heading for it either (judged by the rule itself, on the true positions)."""
    city = generate_city(11, scenarios=DEMO_SCENARIOS)
    schools = [Zone(i, f"school {i}", d.school_zone()) for i, d in enumerate(city.districts)]
    index = ZoneIndex.build(
        schools,
        [Assignment(i, i, s.district, ZoneRole.EXCLUSION) for i, s in enumerate(city.subjects)],
    )
    levels = dict.fromkeys(range(len(city.subjects)), SupervisionLevel.STRICT)
    t = np.arange(0.0, DAY_S, 10.0)
    where = [
        [whereabouts(city, s, i, float(u)).position for u in t] for i, s in enumerate(city.subjects)
    ]
    lon, lat = np.array(where).reshape(-1, 2).T
    n = len(city.subjects)
    fixes = FixBatch.measured(
        np.repeat(np.arange(n), t.shape[0]), np.tile(t, n), lon, lat, np.full(lon.shape, 10.0)
    )
    found, _, _ = heading_findings(
        fixes,
        index.evaluate(fixes),
        no_tracks(),
        RunStates.none(),
        index=index,
        policies=Policies.build(levels, DEFAULT_LEVELS),
    )
    assert [(city.subjects[f.subject_id].label, f.cleared) for f in found] == [
        (Kind.HEADS_FOR_SCHOOL, False)
    ]
