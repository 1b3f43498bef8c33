"""Where a simulated subject is at a given second, and what its GNSS reports."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simulators.city import BORDER_GAP_M, offset

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
    phase = index * 0.7
    a = t / 600.0 + phase
    r = _WANDER_M * (0.5 + 0.5 * math.sin(t / 900.0 + phase))
    return offset(subject.home, r * math.cos(a), r * math.sin(a))


def observed(
    rng: random.Random, position: tuple[float, float]
) -> tuple[tuple[float, float], float]:
    """A GNSS reading: the true position plus noise, and the accuracy the device reports."""
    accuracy = rng.uniform(5.0, 15.0)
    noisy = offset(position, rng.gauss(0, accuracy / 2), rng.gauss(0, accuracy / 2))
    return noisy, accuracy
