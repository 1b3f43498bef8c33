"""Real district outlines (Chengdu, Beijing: thousands of vertices, parts, holes) against shapely.

The shapes are GCJ-02 as published; only their geometry matters here, so no conversion.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from domain import ZoneStatus
from tests.geofence.zones import classify

if TYPE_CHECKING:
    from pathlib import Path


def districts(realdata: Path, name: str) -> list[tuple[str, dict[str, object]]]:
    path = realdata / "boundaries" / "derived" / name
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [(f["properties"]["name"], f["geometry"]) for f in features]


@pytest.mark.parametrize(
    "collection", ["chengdu_510100_districts.geojson", "beijing_110100_districts.geojson"]
)
def test_real_districts_agree_with_shapely(realdata: Path, collection: str) -> None:
    rng = np.random.default_rng(7)
    for name, geometry in districts(realdata, collection):
        geom = shape(geometry)
        minx, miny, maxx, maxy = geom.bounds
        lon = rng.uniform(minx, maxx, 3000)
        lat = rng.uniform(miny, maxy, 3000)
        status, _ = classify(geometry, lon, lat, np.zeros(3000))
        inside = shapely.contains_xy(geom, lon, lat)
        decisive = status != ZoneStatus.UNCERTAIN
        assert np.array_equal(status[decisive] == ZoneStatus.INSIDE, inside[decisive]), name
        assert decisive.mean() > 0.99, name

        vertices = shapely.get_coordinates(geom)
        on_edge, _ = classify(geometry, vertices[:, 0], vertices[:, 1], np.zeros(len(vertices)))
        assert np.all(on_edge == ZoneStatus.UNCERTAIN), name
