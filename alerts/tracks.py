"""A party's track for the proximity rule and the early warning: its newest fix and its
motion, kept in a row of floats a compiled loop updates fix by fix.

Columns: TIME, LON, LAT, ACCURACY of the newest fix, then SPEED since the fix before (m/s);
velocity EAST and NORTH (m/s) measured from the ANCHOR fix (A_*), and how far off it may be
(V_ERROR: both fixes' accuracies over the time between them): NaN while unknown, 0 while
the party stays within both accuracies of the anchor for a minute (standing still), NaN
again when the anchor is more than half an hour old (a device quiet meanwhile). Two
anchors are kept: one 60 to 120 s old where fixes come that often (A_*), and the next
(B_*), which takes its place once it is a minute old, or sooner gives way to a fix twice
as accurate; the velocity is measured from whichever leaves it less in doubt. A minute's
way is what makes a heading (a 10 m accuracy over 10 s leaves a velocity 2 m/s off, over
60 s only 0.3 m/s), and a phone's first fix is often its network's, hundreds of metres
off.
Movements are measured in the plane at the fix's latitude: an allowance and a heading,
where a fraction of a per mille is nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from domain import Positions
from domain.runs import ACCURACY, LAT, LON, TIME
from geofence import EARTH_RADIUS_M

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Floats = NDArray[np.float64]

SPEED, EAST, NORTH, V_ERROR = range(4, 8)
A_TIME, A_LON, A_LAT, A_ACCURACY, B_TIME, B_LON, B_LAT, B_ACCURACY = range(8, 16)
COLUMNS = 16  # party_tracks.track's length: a change needs a migration emptying it
M_PER_DEG = math.radians(1.0) * EARTH_RADIUS_M
_STILL_S = 60.0
_BASELINE_S = 60.0
_LONGEST_S = 1800.0  # a way measured over longer (a device quiet meanwhile) is no heading


def no_tracks() -> Positions:
    return Positions(np.zeros(0, np.int64), np.zeros((0, COLUMNS)))


@nb.njit(cache=True, error_model="numpy", inline="always")
def move(
    tr: NDArray[np.float64], s: int, t: float, lon: float, lat: float, accuracy: float, k: float
) -> None:
    """Party `s`'s track (row s of `tr`) after its fix at t (`k`: metres a degree of
    longitude at the fix)."""
    if not math.isnan(tr[s, TIME]) and t <= tr[s, TIME]:
        return  # a late fix: the track stays what the newest one showed
    if math.isnan(tr[s, TIME]):
        tr[s, SPEED], tr[s, EAST], tr[s, NORTH], tr[s, V_ERROR] = 0.0, np.nan, np.nan, np.nan
        tr[s, A_TIME], tr[s, A_LON], tr[s, A_LAT], tr[s, A_ACCURACY] = t, lon, lat, accuracy
        tr[s, B_TIME], tr[s, B_LON], tr[s, B_LAT], tr[s, B_ACCURACY] = t, lon, lat, accuracy
    else:
        east, north = (lon - tr[s, LON]) * k, (lat - tr[s, LAT]) * M_PER_DEG
        tr[s, SPEED] = math.sqrt(east * east + north * north) / max(t - tr[s, TIME], 1.0)
        x = A_TIME  # of the two anchors, the one that measures the velocity closer
        since_b = t - tr[s, B_TIME]
        # (both accuracies over the time since) compared without dividing: both times > 0
        if (accuracy + tr[s, B_ACCURACY]) * (t - tr[s, A_TIME]) < (
            accuracy + tr[s, A_ACCURACY]
        ) * since_b:
            x = B_TIME
        east, north = (lon - tr[s, x + 1]) * k, (lat - tr[s, x + 2]) * M_PER_DEG
        since = t - tr[s, x]
        both = accuracy + tr[s, x + 3]
        per_s = 1.0 / since
        if since > _LONGEST_S:
            tr[s, EAST], tr[s, NORTH], tr[s, V_ERROR] = np.nan, np.nan, np.nan
        elif east * east + north * north > both * both:
            tr[s, EAST], tr[s, NORTH], tr[s, V_ERROR] = east * per_s, north * per_s, both * per_s
        elif since >= _STILL_S:
            tr[s, EAST], tr[s, NORTH], tr[s, V_ERROR] = 0.0, 0.0, both * per_s
        # else: within both accuracies of the anchor, not for long: the velocity stays
        if since_b >= _BASELINE_S:
            tr[s, A_TIME], tr[s, A_LON] = tr[s, B_TIME], tr[s, B_LON]
            tr[s, A_LAT], tr[s, A_ACCURACY] = tr[s, B_LAT], tr[s, B_ACCURACY]
        if since_b >= _BASELINE_S or accuracy < tr[s, B_ACCURACY] / 2:
            tr[s, B_TIME], tr[s, B_LON], tr[s, B_LAT], tr[s, B_ACCURACY] = t, lon, lat, accuracy
    tr[s, TIME], tr[s, LON], tr[s, LAT], tr[s, ACCURACY] = t, lon, lat, accuracy


@nb.njit(cache=True, error_model="numpy", inline="always")
def crossing(
    px: float, py: float, wx: float, wy: float, radius: float, doubt: float
) -> tuple[float, float]:
    """When a point at p moving at w (relative to a circle's centre; w up to `doubt` m/s
    off) is surely within `radius` (|p + w t| <= radius - doubt t): from and to, either
    possibly past; (inf, -inf) if never (or its velocity is too little known)."""
    a = wx * wx + wy * wy - doubt * doubt
    b = 2.0 * (px * wx + py * wy + radius * doubt)
    c = px * px + py * py - radius * radius
    disc = b * b - 4.0 * a * c
    if a <= 0.0 or disc < 0.0:
        return np.inf, -np.inf
    root = math.sqrt(disc)
    enter, leave = (-b - root) / (2.0 * a), (-b + root) / (2.0 * a)
    shrunk = radius / doubt if doubt > 0.0 else np.inf  # nothing left of the circle then
    if enter > shrunk:
        return np.inf, -np.inf
    return enter, min(leave, shrunk)


@nb.njit(cache=True, error_model="numpy")
def follow(
    order: NDArray[np.int64],
    key: NDArray[np.int64],
    remembered: tuple[NDArray[np.int64], Floats],
    fixes: tuple[Floats, Floats, Floats, Floats],
) -> tuple[Floats, NDArray[np.int64], Floats]:
    """Each key's track through its fixes, taken in (key, time) `order` from the
    `remembered` tracks (sorted keys, their rows): every fix's velocity (east, north, and
    how far off it may be) once its track took it, and the rows (of `order`'s first fix
    per key) and tracks at each key's end."""
    time, lon, lat, accuracy = fixes
    known, rows = remembered
    n = order.shape[0]
    velocity = np.full((n, 3), np.nan)
    ends, tracks, m = np.empty(n, np.int64), np.empty((n, COLUMNS)), 0
    tr = np.empty((1, COLUMNS))
    i = 0
    while i < n:
        first = order[i]
        at = np.searchsorted(known, key[first])
        if at < known.shape[0] and known[at] == key[first]:
            tr[0, :] = rows[at]
        else:
            tr[0, :] = np.nan
        while i < n and key[order[i]] == key[first]:
            f = order[i]
            i += 1
            if not math.isnan(tr[0, TIME]) and time[f] <= tr[0, TIME]:
                continue  # late: the track moved on past it, its velocity is not this fix's
            k = math.cos(math.radians(lat[f])) * M_PER_DEG
            move(tr, 0, time[f], lon[f], lat[f], accuracy[f], k)
            velocity[f, 0], velocity[f, 1], velocity[f, 2] = (
                tr[0, EAST],
                tr[0, NORTH],
                tr[0, V_ERROR],
            )
        ends[m], tracks[m, :] = first, tr[0]
        m += 1
    return velocity, ends[:m], tracks[:m]
