"""Where a simulated subject (and each device) is at a given simulation second, and what the
device reports there.

Ordinary days: home, a drive along a road-like (east, then north) path to work, work, an
errand, home again, over a compressed day; indoors at each stop. Scenario subjects follow
their scenario instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulators.city import PASS_RUN_M, metres_between, offset
from simulators.scenarios import RETURN_S, Kind

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from simulators.city import City, SimProtected, SimSubject

DAY_S = 3600.0  # a compressed day, in simulation seconds
_DEPART = (0.2, 0.5, 0.75)  # leave home, work, errand at these shares of the day
_TOWN_M_PER_S = 10.0
_DRIVE_M_PER_S = 20.0
_HIGHWAY_M_PER_S = 30.0
_DRIVE_PAST_BORDER_M = 1500.0
_LEAVE_PAST_BORDER_M = 600.0
_CURFEW_AWAY_M = 600.0
_PHONE_LEFT_M = 800.0
_WALK_M_PER_S = 1.5
_CATCH_UP_S = 150.0  # the subject reaches the walking protected person this long after leaving
_BEHIND_M = 40.0  # and then follows them this far behind
_PROTECTED_WALK_S = 600.0  # the protected person walks this long, then stays where they are


@dataclass(frozen=True, slots=True)
class Place:
    position: tuple[float, float]
    indoors: bool


def _road(a: tuple[float, float], b: tuple[float, float], travelled: float) -> tuple[float, float]:
    """The point `travelled` metres along the road from a to b: east first, then north."""
    east, north = metres_between(a, b)
    along_east = min(travelled, abs(east))
    rest = min(max(0.0, travelled - abs(east)), abs(north))
    return offset(a, math.copysign(along_east, east), math.copysign(rest, north))


def _road_length(a: tuple[float, float], b: tuple[float, float]) -> float:
    east, north = metres_between(a, b)
    return abs(east) + abs(north)


def _day(subject: SimSubject, index: int, t: float) -> Place:
    u = (t + index * 137.0) % DAY_S
    leg = sum(u >= share * DAY_S for share in _DEPART)  # departures so far today
    if leg == 0:
        return Place(subject.home, indoors=True)
    stops = [subject.home, subject.work, subject.errand, subject.home]
    a, b = stops[leg - 1], stops[leg]
    travelled = (u - _DEPART[leg - 1] * DAY_S) * _TOWN_M_PER_S
    if travelled >= _road_length(a, b):
        return Place(b, indoors=True)
    return Place(_road(a, b, travelled), indoors=False)


def _straight(
    a: tuple[float, float], b: tuple[float, float], travelled: float
) -> tuple[tuple[float, float], bool]:
    """(position, arrived) `travelled` metres along the straight line from a to b."""
    east, north = metres_between(a, b)
    length = math.hypot(east, north)
    share = 1.0 if length == 0 else min(1.0, travelled / length)
    return offset(a, share * east, share * north), share >= 1.0


def _towards_border(city: City, subject: SimSubject, beyond_m: float) -> tuple[float, float]:
    """The point `beyond_m` past the district's border, straight out from the subject's home
    (which lies near the border)."""
    district = city.districts[subject.district]
    a = district.narrow_angle
    d = district.min_radius_m + beyond_m
    return offset(district.centre, d * math.cos(a), d * math.sin(a))


def _walk_out(city: City, subject: SimSubject, since: float) -> Place:
    target = _towards_border(city, subject, _DRIVE_PAST_BORDER_M)
    return Place(_straight(subject.home, target, since * _DRIVE_M_PER_S)[0], indoors=False)


def _heads_for_school(city: City, subject: SimSubject, since: float) -> Place:
    school = city.districts[subject.district].school
    return Place(_straight(subject.home, school, since * _DRIVE_M_PER_S)[0], indoors=False)


def _pass_by(_city: City, subject: SimSubject, since: float) -> Place:
    """East along the road past the school, then parked at its end."""
    end = offset(subject.home, PASS_RUN_M, 0.0)
    position, arrived = _straight(subject.home, end, since * _DRIVE_M_PER_S)
    return Place(position, indoors=arrived)


def _late_return(city: City, subject: SimSubject, since: float) -> Place:
    target = _towards_border(city, subject, _LEAVE_PAST_BORDER_M)
    if since < RETURN_S:
        return Place(_straight(subject.home, target, since * _HIGHWAY_M_PER_S)[0], False)
    position, arrived = _straight(target, subject.home, (since - RETURN_S) * _HIGHWAY_M_PER_S)
    return Place(position, indoors=arrived)


def _away_from_home(east_m: float, north_m: float) -> Callable[[City, SimSubject, float], Place]:
    def move(_city: City, subject: SimSubject, since: float) -> Place:
        target = offset(subject.home, east_m, north_m)
        return Place(_straight(subject.home, target, since * _TOWN_M_PER_S)[0], indoors=False)

    return move


def protected_whereabouts(city: City, person: SimProtected, t: float) -> Place:
    """A protected person: at home until the subject's scenario begins, then walking north for
    a while, then standing where the walk ended."""
    scenario = city.subjects[person.subject].scenario
    begins = 0.0 if scenario is None else scenario.after_s
    if t < begins:
        return Place(person.home, indoors=True)
    walked = min(t - begins, _PROTECTED_WALK_S) * _WALK_M_PER_S
    return Place(offset(person.home, 0.0, walked), indoors=False)


def _approach_victim(city: City, subject: SimSubject, since: float) -> Place:
    """Straight for where the protected person will be in _CATCH_UP_S, then after them."""
    assert subject.counterpart is not None, "the city gives the scenario its protected person"
    person = city.protected[subject.counterpart]
    begins = subject.scenario.after_s if subject.scenario else 0.0
    if since < _CATCH_UP_S:
        meet = protected_whereabouts(city, person, begins + _CATCH_UP_S).position
        east, north = metres_between(subject.home, meet)
        speed = math.hypot(east, north) / _CATCH_UP_S
        return Place(_straight(subject.home, meet, since * speed)[0], indoors=False)
    there = protected_whereabouts(city, person, begins + since).position
    return Place(offset(there, 0.0, -_BEHIND_M), indoors=False)


def _meet_codefendant(city: City, subject: SimSubject, since: float) -> Place:
    """Both walk to the middle between their homes, and stay."""
    assert subject.counterpart is not None, "the city gives the scenario its co-defendant"
    other = city.subjects[subject.counterpart].home
    east, north = metres_between(subject.home, other)
    middle = offset(subject.home, east / 2, north / 2)
    return Place(_straight(subject.home, middle, since * _TOWN_M_PER_S)[0], indoors=False)


_SCENARIO_MOVES: dict[Kind, Callable[[City, SimSubject, float], Place]] = {
    Kind.WALK_OUT: _walk_out,
    Kind.HEADS_FOR_SCHOOL: _heads_for_school,
    Kind.PASS_BY: _pass_by,
    Kind.LATE_RETURN: _late_return,
    Kind.BREAK_CURFEW: _away_from_home(_CURFEW_AWAY_M, 0.0),
    Kind.PHONE_LEFT_HOME: _away_from_home(0.0, -_PHONE_LEFT_M),
    Kind.STILL_PHONE: _away_from_home(0.0, -_PHONE_LEFT_M),
    Kind.APPROACH_VICTIM: _approach_victim,
    Kind.MEET_CODEFENDANT: _meet_codefendant,
}


def whereabouts(city: City, subject: SimSubject, index: int, t: float) -> Place:
    """Where the person is `t` simulation seconds into the run: a scenario that moves them
    keeps them at home until it starts; everyone else lives an ordinary day."""
    scenario = subject.scenario
    move = None if scenario is None else _SCENARIO_MOVES.get(scenario.kind)
    if scenario is None or move is None:
        return _day(subject, index, t)
    if t < scenario.after_s:
        return Place(subject.home, indoors=True)
    return move(city, subject, t - scenario.after_s)


def phone_whereabouts(city: City, subject: SimSubject, index: int, t: float) -> Place:
    """Where the phone is: with the person, unless it was left at home; where a faking app
    says it is, from when its scenario starts (across the county: the centre of the
    district diagonally opposite)."""
    scenario = subject.scenario
    if scenario is not None and scenario.kind in (Kind.PHONE_LEFT_HOME, Kind.STILL_PHONE):
        return Place(subject.home, indoors=True)
    if scenario is not None and scenario.kind is Kind.TELEPORT and t >= scenario.after_s:
        far = city.districts[len(city.districts) - 1 - subject.district]
        return Place(far.centre, indoors=False)
    return whereabouts(city, subject, index, t)


@dataclass(frozen=True, slots=True)
class Reading:
    lon: float
    lat: float
    accuracy: float
    source: str  # gnss, wifi or cell, as the v1 format names them


_MULTIPATH = 0.01  # share of outdoor GNSS fixes thrown 60-150 m by reflections
INDOOR_GNSS_GAP = 0.6  # share of indoor moments a GNSS-only device gets no fix at all


def observed(
    rng: random.Random, position: tuple[float, float], *, inside_building: bool, gnss_only: bool
) -> Reading | None:
    """What a device reports for a true position, or None when it gets no fix. Outdoors:
    GNSS, metres off, now and then thrown by multipath while still claiming metres. Indoors:
    phones use Wi-Fi (tens of metres), sometimes only the cell tower (a kilometre or so);
    GNSS-only devices (wristbands) mostly get nothing, else a poor GNSS fix."""
    if inside_building and gnss_only:
        if rng.random() < INDOOR_GNSS_GAP:
            return None
        accuracy, source = rng.uniform(15.0, 40.0), "gnss"
        spread = accuracy / 2
    elif inside_building:
        if rng.random() < 0.85:
            accuracy, source = rng.uniform(20.0, 60.0), "wifi"
        else:
            accuracy, source = rng.uniform(300.0, 1500.0), "cell"
        spread = accuracy / 2
    else:
        accuracy, source = rng.uniform(5.0, 15.0), "gnss"
        spread = accuracy / 2
        if rng.random() < _MULTIPATH:
            spread = rng.uniform(60.0, 150.0)
    a = rng.uniform(0, 2 * math.pi)
    r = abs(rng.gauss(0, spread))
    lon, lat = offset(position, r * math.cos(a), r * math.sin(a))
    return Reading(lon, lat, accuracy, source)
