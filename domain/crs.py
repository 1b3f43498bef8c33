"""China's coordinate systems: GCJ-02 (the state-mandated offset every Chinese map SDK uses)
and BD-09 (Baidu's further offset), to and from WGS-84. Vectorised; no I/O.

The GCJ-02 forward formula is the widely published reconstruction; its inverse has no closed
form and is found by fixed-point iteration to about a millimetre. Outside China (a coarse
box) GCJ-02 equals WGS-84, as the SDKs do.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


class Crs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def _in_china(lon: F64, lat: F64) -> NDArray[np.bool_]:
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offset(lon: F64, lat: F64) -> tuple[F64, F64]:
    x, y = lon - 105.0, lat - 35.0
    sx, pi = np.sqrt(np.abs(x)), np.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += common + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon += common + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[F64, F64]:
    lo, la = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    dlon, dlat = _offset(lo, la)
    return lo + dlon, la + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[F64, F64]:
    glon, glat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all((np.abs(elon) < 1e-11) & (np.abs(elat) < 1e-11)):
            break
    return wlon, wlat


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[F64, F64]:
    """Baidu's published inverse (off by up to 0.2 m), refined by fixed-point iteration on
    the forward formula to about a millimetre."""
    blon, blat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(5):
        flon, flat = gcj02_to_bd09(glon, glat)
        glon, glat = glon - (flon - blon), glat - (flat - blat)
    return glon, glat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[F64, F64]:
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def to_wgs84(crs: Crs, lon: ArrayLike, lat: ArrayLike) -> tuple[F64, F64]:
    if crs is Crs.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if crs is Crs.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
