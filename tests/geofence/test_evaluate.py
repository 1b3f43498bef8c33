"""The vectorised evaluation agrees with shapely, edges and vertices included."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, mapping

from domain import Assignment, FixBatch, FixSource, Zone, ZoneRole, ZoneStatus
from geofence import BOUNDARY_TOLERANCE_M, ZoneError, ZoneIndex, compile_zone, evaluate_zone
from geofence.compile import EARTH_RADIUS_M, CompiledZone

M_PER_DEG = EARTH_RADIUS_M * math.pi / 180


def star(cx: float, cy: float, scale_m: float, radii: list[float], turn: float) -> Polygon:
    n = len(radii)
    k = M_PER_DEG * math.cos(math.radians(cy))
    pts = []
    for i, r in enumerate(radii):
        a = turn + 2 * math.pi * i / n
        pts.append((cx + r * scale_m * math.cos(a) / k, cy + r * scale_m * math.sin(a) / M_PER_DEG))
    return Polygon(pts)


@st.composite
def zones(draw: st.DrawFn) -> Polygon | MultiPolygon:
    """Stars with and without holes, two-part multipolygons, slivers; 10 m to 300 km across."""
    cx = draw(st.floats(-170, 170))
    cy = draw(st.floats(-60, 60))
    scale = draw(st.sampled_from([10.0, 500.0, 5_000.0, 300_000.0]))
    radii = draw(st.lists(st.floats(0.4, 1.0), min_size=3, max_size=30))
    turn = draw(st.floats(0, 2 * math.pi))
    shape_kind = draw(st.sampled_from(["plain", "hole", "multi", "sliver"]))
    outer = star(cx, cy, scale, radii, turn)
    if shape_kind == "hole":
        hole = star(cx, cy, scale * 0.3, [1.0] * 7, turn)
        geom: Polygon | MultiPolygon = Polygon(outer.exterior.coords, [hole.exterior.coords])
    elif shape_kind == "multi":
        k = M_PER_DEG * math.cos(math.radians(cy))
        other = star(cx + 3 * scale / k, cy, scale, radii[::-1], -turn)
        geom = MultiPolygon([outer, other])
    elif shape_kind == "sliver":
        geom = star(cx, cy, scale, [1.0, 1e-3, 1.0], 0.0)
    else:
        geom = outer
    assume(geom.is_valid and not geom.is_empty)
    return geom


def projected(zone: CompiledZone, geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    def to_plane(coords: np.ndarray) -> np.ndarray:
        x, y = zone.project(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, to_plane)


@settings(max_examples=200, deadline=None)
@given(geom=zones(), data=st.data())
def test_status_and_distance_agree_with_shapely(
    geom: Polygon | MultiPolygon, data: st.DataObject
) -> None:
    zone = compile_zone(Zone(id=1, name="z", geometry=mapping(geom)))
    minx, miny, maxx, maxy = geom.bounds
    w, h = maxx - minx, maxy - miny
    n = 60
    lon = np.array(
        data.draw(st.lists(st.floats(minx - w / 2, maxx + w / 2), min_size=n, max_size=n))
    )
    lat = np.array(
        data.draw(st.lists(st.floats(miny - h / 2, maxy + h / 2), min_size=n, max_size=n))
    )
    scale = max(w * zone.m_per_deg_lon, h * M_PER_DEG)
    accuracy = np.array(data.draw(st.lists(st.floats(0, scale / 4), min_size=n, max_size=n)))

    status, distance = evaluate_zone(zone, lon, lat, accuracy)

    plane = projected(zone, geom)
    x, y = zone.project(lon, lat)
    points = shapely.points(x, y)
    expected_distance = shapely.distance(plane.boundary, points)
    np.testing.assert_allclose(distance, expected_distance, rtol=1e-7, atol=1e-7 * scale)
    reach = accuracy + BOUNDARY_TOLERANCE_M
    tie = np.abs(expected_distance - reach) < 1e-6 * scale
    inside = shapely.contains(plane, points)
    expected = np.where(inside, ZoneStatus.INSIDE, ZoneStatus.OUTSIDE)
    expected[expected_distance <= reach] = ZoneStatus.UNCERTAIN
    assert np.array_equal(status[~tie], expected[~tie])


@settings(max_examples=100, deadline=None)
@given(geom=zones())
def test_points_on_vertices_and_edges_are_uncertain(geom: Polygon | MultiPolygon) -> None:
    zone = compile_zone(Zone(id=1, name="z", geometry=mapping(geom)))
    rings = [shapely.get_coordinates(r) for r in shapely.get_rings(shapely.get_parts(geom))]
    pts = np.vstack([np.vstack([c, (c[:-1] + c[1:]) / 2]) for c in rings])
    # Even a fix claiming perfect accuracy proves neither side when it is on the boundary.
    status, distance = evaluate_zone(zone, pts[:, 0], pts[:, 1], np.zeros(len(pts)))
    assert np.all(distance < BOUNDARY_TOLERANCE_M)
    assert np.all(status == ZoneStatus.UNCERTAIN)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@pytest.mark.parametrize("lat", [0.0, 30.6, 39.9, 53.0])
def test_distance_within_half_a_percent_of_the_sphere_across_a_city(lat: float) -> None:
    """A 40 km square zone; fixes 50 m to 5 km outside its east and north edges."""
    half = 20_000 / (M_PER_DEG * math.cos(math.radians(lat)))
    half_lat = 20_000 / M_PER_DEG
    box = Polygon(
        [
            (-half, lat - half_lat),
            (half, lat - half_lat),
            (half, lat + half_lat),
            (-half, lat + half_lat),
        ]
    )
    zone = compile_zone(Zone(id=1, name="z", geometry=mapping(box)))
    for metres in (50.0, 500.0, 5000.0):
        east = half + metres / (M_PER_DEG * math.cos(math.radians(lat)))
        north = lat + half_lat + metres / M_PER_DEG
        lon = np.array([east, 0.0])
        la = np.array([lat, north])
        _, d = evaluate_zone(zone, lon, la, np.zeros(2))
        truth = [haversine_m(half, lat, east, lat), haversine_m(0.0, lat + half_lat, 0.0, north)]
        np.testing.assert_allclose(d, truth, rtol=0.005)


def test_an_invalid_zone_is_refused_with_the_problem_and_where() -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(ZoneError, match=r"Self-intersection\[0.5 0.5\]"):
        compile_zone(Zone(id=1, name="bowtie", geometry=bowtie))


def test_a_point_is_not_a_zone() -> None:
    with pytest.raises(ZoneError, match="Polygon or MultiPolygon, got Point"):
        compile_zone(Zone(id=1, name="p", geometry=mapping(Point(0, 0))))


def test_index_pairs_every_fix_with_every_assignment_of_its_subject() -> None:
    sq = Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)])
    index = ZoneIndex.build(
        [Zone(1, "a", mapping(sq)), Zone(2, "b", mapping(sq))],
        [
            Assignment(10, subject_id=7, zone_id=1, role=ZoneRole.INCLUSION),
            Assignment(11, subject_id=7, zone_id=2, role=ZoneRole.EXCLUSION),
            Assignment(12, subject_id=8, zone_id=1, role=ZoneRole.INCLUSION),
        ],
    )
    n = 3
    batch = FixBatch(
        subject=np.array([8, 9, 7]),
        device=np.zeros(n, np.int64),
        time=np.zeros(n),
        lon=np.full(n, 0.005),
        lat=np.full(n, 0.005),
        accuracy=np.ones(n),
        source=[FixSource.GNSS] * n,
        battery=np.zeros(n, np.int16),
        seq=np.zeros(n, np.int64),
        received=np.zeros(n),
    )
    ev = index.evaluate(batch)
    assert sorted(zip(ev.fix.tolist(), ev.assignment.tolist(), strict=True)) == [
        (0, 12),
        (2, 10),
        (2, 11),
    ]
    assert ev.inclusion.tolist() == [a != 11 for a in ev.assignment.tolist()]
    assert np.all(ev.status == ZoneStatus.INSIDE)
