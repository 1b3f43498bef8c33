"""A party's track for the proximity rule: its newest fix and its motion, kept in a row of
floats a compiled loop updates fix by fix.

Columns: TIME, LON, LAT, ACCURACY of the newest fix, then SPEED since the fix before (m/s)
and velocity EAST and NORTH (m/s) measured from the ANCHOR fix (A_*): the last one the
party had moved beyond both accuracies from (NaN while unknown; 0 once it stayed within
them for a minute: standing still). Movements are measured in the plane at the fix's
latitude: an allowance and a heading, where a fraction of a per mille is nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from domain.runs import ACCURACY, LAT, LON, TIME
from geofence import EARTH_RADIUS_M

if TYPE_CHECKING:
    from numpy.typing import NDArray

SPEED, EAST, NORTH, A_TIME, A_LON, A_LAT, A_ACCURACY = range(4, 11)
COLUMNS = 11
M_PER_DEG = math.radians(1.0) * EARTH_RADIUS_M
_STILL_S = 60.0


@nb.njit(cache=True, error_model="numpy", inline="always")
def move(
    tr: NDArray[np.float64], s: int, t: float, lon: float, lat: float, accuracy: float, k: float
) -> None:
    """Party `s`'s track (row s of `tr`) after its fix at t (`k`: metres a degree of
    longitude at the fix)."""
    if not math.isnan(tr[s, TIME]) and t <= tr[s, TIME]:
        return  # a late fix: the track stays what the newest one showed
    anchored = True
    if math.isnan(tr[s, TIME]):
        tr[s, SPEED], tr[s, EAST], tr[s, NORTH] = 0.0, np.nan, np.nan
    else:
        east, north = (lon - tr[s, LON]) * k, (lat - tr[s, LAT]) * M_PER_DEG
        tr[s, SPEED] = math.sqrt(east * east + north * north) / max(t - tr[s, TIME], 1.0)
        east, north = (lon - tr[s, A_LON]) * k, (lat - tr[s, A_LAT]) * M_PER_DEG
        since = t - tr[s, A_TIME]
        if east * east + north * north > (accuracy + tr[s, A_ACCURACY]) ** 2:
            tr[s, EAST], tr[s, NORTH] = east / since, north / since
        elif since >= _STILL_S:
            tr[s, EAST] = tr[s, NORTH] = 0.0
        else:
            anchored = False  # still within the accuracies of the anchor: it stays
    if anchored:
        tr[s, A_TIME], tr[s, A_LON], tr[s, A_LAT], tr[s, A_ACCURACY] = t, lon, lat, accuracy
    tr[s, TIME], tr[s, LON], tr[s, LAT], tr[s, ACCURACY] = t, lon, lat, accuracy
