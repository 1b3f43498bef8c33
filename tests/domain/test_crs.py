"""GCJ-02 / BD-09 conversions: the published reference point, round trips, the size of the
offset where our subjects live, and no offset outside China."""

from __future__ import annotations

import math

import numpy as np
import pytest

from domain.crs import (
    Crs,
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)


def metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    k = 111_195.0
    return np.asarray(np.hypot((lon2 - lon1) * k * np.cos(np.radians(lat1)), (lat2 - lat1) * k))


def test_tiananmen_matches_the_published_gcj02_position() -> None:
    lon, lat = wgs84_to_gcj02(116.397428, 39.90923)
    assert (round(float(lon), 6), round(float(lat), 6)) == (116.403672, 39.910634)


def test_round_trips_are_within_a_centimetre_across_china() -> None:
    grid_lon, grid_lat = np.meshgrid(np.linspace(75, 135, 61), np.linspace(18, 53, 36))
    lon, lat = grid_lon.ravel(), grid_lat.ravel()
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01
    bd = gcj02_to_bd09(lon, lat)
    assert metres(lon, lat, *bd09_to_gcj02(*bd)).max() < 0.01


@pytest.mark.parametrize(
    ("city", "lon", "lat"), [("Chengdu", 104.066, 30.657), ("Beijing", 116.4, 39.9)]
)
def test_the_offset_is_hundreds_of_metres_in_our_cities(city: str, lon: float, lat: float) -> None:
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert 100 < float(metres(np.array(lon), np.array(lat), glon, glat)) < 700, city


def test_outside_china_nothing_moves() -> None:
    lon, lat = np.array([8.54, -74.0, 139.7]), np.array([47.37, 40.7, 35.7])
    assert np.array_equal(np.stack(wgs84_to_gcj02(lon, lat)), np.stack([lon, lat]))
    assert np.array_equal(np.stack(to_wgs84(Crs.GCJ02, lon, lat)), np.stack([lon, lat]))
    assert math.isclose(float(to_wgs84(Crs.WGS84, 1.5, 2.5)[0]), 1.5)
