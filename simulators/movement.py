"""Where a simulated subject is at a given second, and what its device reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulators.city import BORDER_GAP_M, metres_between, offset

if TYPE_CHECKING:
    import random

    from simulators.city import City, SimSubject

_WANDER_M = 800.0
_DRIVE_M_PER_S = 20.0
_DRIVE_PAST_BORDER_M = 1500.0


def true_position(city: City, subject: SimSubject, index: int, t: float) -> tuple[float, float]:
    """Position `t` seconds after the simulation started, before any GNSS error."""
    if subject.leaves_after_s is not None:
        # Waits at home, then drives straight out through the nearest border and stops beyond it.
        district = city.districts[subject.district]
        driven = max(0.0, t - subject.leaves_after_s) * _DRIVE_M_PER_S
        d = district.min_radius_m - BORDER_GAP_M + min(driven, BORDER_GAP_M + _DRIVE_PAST_BORDER_M)
        a = district.narrow_angle
        return offset(district.centre, d * math.cos(a), d * math.sin(a))
    if subject.visits_school_after_s is not None:
        # Waits at home, then goes straight to the school and stays.
        school = city.districts[subject.district].school
        gone = max(0.0, t - subject.visits_school_after_s) * _DRIVE_M_PER_S
        east, north = metres_between(subject.home, school)
        share = min(1.0, gone / math.hypot(east, north))
        return offset(subject.home, share * east, share * north)
    phase = index * 0.7
    a = t / 600.0 + phase
    r = _WANDER_M * (0.5 + 0.5 * math.sin(t / 900.0 + phase))
    return offset(subject.home, r * math.cos(a), r * math.sin(a))


@dataclass(frozen=True, slots=True)
class Reading:
    lon: float
    lat: float
    accuracy: float
    source: str  # gnss, wifi or cell, as the v1 format names them


_INDOOR_M = 150.0  # this close to home counts as indoors
_MULTIPATH = 0.01  # share of outdoor GNSS fixes thrown 60-150 m by reflections


def indoors(subject: SimSubject, position: tuple[float, float]) -> bool:
    return math.hypot(*metres_between(subject.home, position)) < _INDOOR_M


def observed(
    rng: random.Random, position: tuple[float, float], *, inside_building: bool, gnss_only: bool
) -> Reading:
    """What a device reports for a true position. Outdoors: GNSS, metres off, now and then
    thrown by multipath while still claiming metres. Indoors (phones): Wi-Fi tens of metres,
    sometimes only the cell tower, a kilometre or so."""
    if inside_building and not gnss_only:
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
