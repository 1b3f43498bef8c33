"""Distances on the sphere for the compiled kernels: the exact ones, and the bound on the
error of measuring near a fix in a plane scaled for the fix's own latitude.

In lon/lat the sphere's metric is ds^2 = R^2 (cos^2(lat) dlon^2 + dlat^2); freezing cos(lat)
at the fix's value is off by at most |tan(lat)| d / R of a distance d (first order), plus a
second-order term bounded generously by 4 (d / (R cos(lat)))^2.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

from geofence.grid import EARTH_RADIUS_M

if TYPE_CHECKING:
    from numpy.typing import NDArray

    F64 = NDArray[np.float64]


def fix_terms(lat: F64) -> F64:
    """Per fix (rows): e1, e2 of the bound e1 d^2 + e2 d^3 on the error of a distance d
    measured locally, and cos(lat)."""
    phi = np.radians(lat)
    cos = np.cos(phi)
    with np.errstate(divide="ignore"):
        e2 = 4.0 / np.square(cos * EARTH_RADIUS_M)
    return np.column_stack([1.01 * np.abs(np.tan(phi)) / EARTH_RADIUS_M, e2, cos])


@numba.njit(cache=True, error_model="numpy", inline="always")
def error_bound(d: float, e1: float, e2: float) -> float:
    return (e1 + e2 * d) * d * d


@numba.njit(cache=True, error_model="numpy", inline="always")
def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2
    a += math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(math.sqrt(a), 1.0))


@numba.njit(cache=True, error_model="numpy")
def sphere_segment(
    lon: float, lat: float, alon: float, alat: float, blon: float, blat: float
) -> float:
    """Great-circle distance from a point to an edge straight in lon/lat: golden-section
    search along the edge."""
    lo, hi, g = 0.0, 1.0, (math.sqrt(5.0) - 1) / 2
    for _ in range(60):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        d1 = haversine(lon, lat, alon + m1 * (blon - alon), alat + m1 * (blat - alat))
        d2 = haversine(lon, lat, alon + m2 * (blon - alon), alat + m2 * (blat - alat))
        if d1 <= d2:
            hi = m2
        else:
            lo = m1
    t = (lo + hi) / 2
    best = haversine(lon, lat, alon + t * (blon - alon), alat + t * (blat - alat))
    best = min(best, haversine(lon, lat, alon, alat))
    return min(best, haversine(lon, lat, blon, blat))


@numba.njit(cache=True, error_model="numpy")
def beyond_circle(lon: F64, lat: F64, centre_lon: float, centre_lat: float, r: float) -> F64:
    """A lower bound of each point's distance beyond a circle (0 within it)."""
    out = np.empty(lon.shape[0])
    for i in range(lon.shape[0]):
        # less 1% and a metre: the circle is drawn in the zone's plane, the distance on the
        # sphere, and a bound must never exceed the distance
        out[i] = max((haversine(lon[i], lat[i], centre_lon, centre_lat) - r) * 0.99 - 1.0, 0.0)
    return out
