"""Fixes against compiled zones: inside / outside / uncertain and distance to the boundary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from domain import Codes, Lat, Lon, Metres, ZoneStatus

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from geofence.compile import CompiledZone

# Points x edges evaluated per chunk: bounds temporary memory to ~100 MB.
_CHUNK_CELLS = 2_000_000
# No position resolves a millimetre: a fix this close to the boundary is on it, whatever
# floating point says about which side.
BOUNDARY_TOLERANCE_M = 0.001


def _inside_and_distance(
    zone: CompiledZone, x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], Metres]:
    """Even-odd crossing test and distance to the nearest edge, points as rows, edges as columns."""
    px = x[:, None]
    py = y[:, None]
    x1, y1, x2, y2 = zone.x1, zone.y1, zone.x2, zone.y2
    straddles = (y1 > py) != (y2 > py)
    dy = y2 - y1
    safe_dy = np.where(dy == 0.0, 1.0, dy)
    x_cross = x1 + (py - y1) * (x2 - x1) / safe_dy
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)

    dx = x2 - x1
    seg_len2 = dx * dx + dy * dy
    safe_len2 = np.where(seg_len2 == 0.0, 1.0, seg_len2)
    t = np.clip(((px - x1) * dx + (py - y1) * dy) / safe_len2, 0.0, 1.0)
    ex = x1 + t * dx - px
    ey = y1 + t * dy - py
    distance = np.sqrt(np.min(ex * ex + ey * ey, axis=1))
    return (crossings % 2) == 1, distance


def evaluate_zone(zone: CompiledZone, lon: Lon, lat: Lat, accuracy: Metres) -> tuple[Codes, Metres]:
    """Status of each fix against one zone, and its distance to the zone boundary in metres.

    A fix whose accuracy circle reaches the boundary is UNCERTAIN: it proves neither side;
    so is a fix on the boundary itself, even with zero accuracy.
    """
    n = lon.shape[0]
    inside = np.empty(n, dtype=np.bool_)
    distance = np.empty(n, dtype=np.float64)
    x, y = zone.project(lon, lat)
    step = max(1, _CHUNK_CELLS // max(1, zone.x1.shape[0]))
    for start in range(0, n, step):
        part = slice(start, start + step)
        inside[part], distance[part] = _inside_and_distance(zone, x[part], y[part])
    status = np.where(inside, ZoneStatus.INSIDE, ZoneStatus.OUTSIDE).astype(np.int8)
    status[distance <= accuracy + BOUNDARY_TOLERANCE_M] = ZoneStatus.UNCERTAIN
    return status, distance
