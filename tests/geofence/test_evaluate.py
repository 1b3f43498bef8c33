"""The grid-indexed evaluation agrees with shapely, edges and vertices included."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from shapely.geometry import MultiPolygon, Point, Polygon, mapping

from domain import Assignment, Schedule, Zone, ZoneRole, ZoneStatus
from geofence import (
    BOUNDARY_TOLERANCE_M,
    EARTH_RADIUS_M,
    CompiledPolygon,
    ZoneError,
    ZoneIndex,
    compile_shape,
    kernel,
    polygon_from_wkt,
    raster,
    warm_up,
)
from tests.geofence.zones import batch, classify

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
    radii = draw(st.lists(st.floats(0.4, 1.0), min_size=3, max_size=60))
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
    minx, _, maxx, _ = geom.bounds
    assume(geom.is_valid and not geom.is_empty and minx > -180 and maxx < 180)
    return geom


def haversine_m(
    lon1: np.ndarray | float, lat1: np.ndarray | float, lon2: float, lat2: float
) -> np.ndarray:
    p1, p2 = np.radians(lat1), math.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2
    a += np.cos(p1) * math.cos(p2) * np.sin(np.radians(lon2 - np.asarray(lon1)) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(np.sqrt(a), 1.0)))


def sphere_distance(geom: Polygon | MultiPolygon, lon: float, lat: float) -> float:
    """The oracle: great-circle distance to the boundary, its edges straight in lon/lat.
    Edges a local plane around the fix puts near enough are minimised along (scipy)."""
    rings = [shapely.get_coordinates(r) for r in shapely.get_rings(shapely.get_parts(geom))]
    a = np.vstack([r[:-1] for r in rings])
    b = np.vstack([r[1:] for r in rings])
    k = M_PER_DEG * math.cos(math.radians(lat))
    ax, ay = (a[:, 0] - lon) * k, (a[:, 1] - lat) * M_PER_DEG
    bx, by = (b[:, 0] - lon) * k, (b[:, 1] - lat) * M_PER_DEG
    dx, dy = bx - ax, by - ay
    t = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-300), 0, 1)
    rough = np.hypot(ax + t * dx, ay + t * dy)
    best = math.inf
    for i in np.flatnonzero(rough <= 1.5 * rough.min() + 1.0):
        (alon, alat), (blon, blat) = a[i], b[i]

        def along(
            u: float, alon: float = alon, alat: float = alat, blon: float = blon, blat: float = blat
        ) -> float:
            return float(haversine_m(alon + u * (blon - alon), alat + u * (blat - alat), lon, lat))

        found = minimize_scalar(along, bounds=(0, 1), method="bounded", options={"xatol": 1e-12})
        best = min(best, float(found.fun), along(0.0), along(1.0))
    return best


@settings(max_examples=200, deadline=None)
@given(geom=zones(), data=st.data())
def test_status_and_distance_agree_with_shapely_on_the_sphere(
    geom: Polygon | MultiPolygon, data: st.DataObject
) -> None:
    """Sides as shapely says; distances (and so uncertain) as the sphere says."""
    plane = compile_shape(1, mapping(geom)).plane
    minx, miny, maxx, maxy = geom.bounds
    w, h = maxx - minx, maxy - miny
    n = 40
    floats = st.floats(0, 1)
    u = np.array(data.draw(st.lists(floats, min_size=n, max_size=n)))
    v = np.array(data.draw(st.lists(floats, min_size=n, max_size=n)))
    lon, lat = minx - w / 2 + 2 * w * u, miny - h / 2 + 2 * h * v
    scale = max(w * plane.m_per_deg_lon, h * M_PER_DEG)
    # Mostly GNSS-like accuracy, some fixes wider than the whole zone.
    acc_scale = data.draw(st.sampled_from([0.0, scale / 100, scale / 4, scale * 2]))
    accuracy = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))) * acc_scale

    status, distance = classify(mapping(geom), lon, lat, accuracy)

    expected_distance = np.array(
        [sphere_distance(geom, x, y) for x, y in zip(lon, lat, strict=True)]
    )
    reach = accuracy + BOUNDARY_TOLERANCE_M
    tie = np.abs(expected_distance - reach) < 1e-6 * (1 + expected_distance)
    expected = np.where(shapely.contains_xy(geom, lon, lat), ZoneStatus.INSIDE, ZoneStatus.OUTSIDE)
    expected[expected_distance <= reach] = ZoneStatus.UNCERTAIN
    assert np.array_equal(status[~tie], expected[~tie])
    np.testing.assert_allclose(distance, expected_distance, rtol=1e-6, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(geom=zones())
def test_points_on_vertices_and_edges_are_uncertain(geom: Polygon | MultiPolygon) -> None:
    rings = [shapely.get_coordinates(r) for r in shapely.get_rings(shapely.get_parts(geom))]
    pts = np.vstack([np.vstack([c, (c[:-1] + c[1:]) / 2]) for c in rings])
    # Even a fix claiming perfect accuracy proves neither side when it is on the boundary.
    status, _ = classify(mapping(geom), pts[:, 0], pts[:, 1], np.zeros(len(pts)))
    assert np.all(status == ZoneStatus.UNCERTAIN)


@pytest.mark.parametrize("lat", [0.0, 30.6, 39.9, 53.0])
def test_distance_within_a_thousandth_of_the_sphere_across_a_province(lat: float) -> None:
    """A 600 km square zone; fixes 50 m to 20 km outside its north edge and its east edge,
    as far as 290 km north and south of its centre, where one plane for the zone is 1-5% off."""
    half_lat = 300_000 / M_PER_DEG
    half = 300_000 / (M_PER_DEG * math.cos(math.radians(lat)))
    top = lat + half_lat
    box = Polygon([(-half, lat - half_lat), (half, lat - half_lat), (half, top), (-half, top)])
    metres = np.array([50.0, 500.0, 5_000.0, 20_000.0])
    north = top + metres / M_PER_DEG
    _, d = classify(mapping(box), np.zeros(4), north, np.zeros(4))
    np.testing.assert_allclose(d, metres, rtol=1e-3)  # from a parallel: along the meridian
    for along in (-290_000.0, 0.0, 290_000.0):
        phi = lat + along / M_PER_DEG
        east = half + metres / (M_PER_DEG * math.cos(math.radians(phi)))
        _, d = classify(mapping(box), east, np.full(4, phi), np.zeros(4))
        # The great circle from the fix meeting the meridian at right angles.
        truth = EARTH_RADIUS_M * np.arcsin(
            math.cos(math.radians(phi)) * np.sin(np.radians(east - half))
        )
        np.testing.assert_allclose(d, truth, rtol=1e-3)


def test_an_accuracy_circle_across_the_border_is_uncertain() -> None:
    """A 1,500 m cell fix 200 m outside proves neither a violation nor compliance."""
    box = Polygon([(0, 0), (0.1, 0), (0.1, 0.1), (0, 0.1)])
    lon = np.array([0.1 + 200 / M_PER_DEG, 0.1 + 200 / M_PER_DEG, 0.05])
    status, _ = classify(mapping(box), lon, np.full(3, 0.05), np.array([1500.0, 20.0, 1500.0]))
    assert status.tolist() == [ZoneStatus.UNCERTAIN, ZoneStatus.OUTSIDE, ZoneStatus.INSIDE]


def test_circles_are_exact() -> None:
    circle = {"type": "Circle", "center": [116.4, 39.9], "radius_m": 300.0}
    k = M_PER_DEG * math.cos(math.radians(39.9))
    metres = np.array([0.0, 250.0, 295.0, 310.0, 1000.0])
    status, distance = classify(circle, 116.4 + metres / k, np.full(5, 39.9), np.full(5, 10.0))
    assert status.tolist() == [1, 1, 3, 3, 2]
    np.testing.assert_allclose(distance, [300.0, 50.0, 5.0, 10.0, 700.0], rtol=1e-6)


def test_a_corridor_is_its_route_widened() -> None:
    """An approved route: 2 km east then 2 km north, 200 m wide."""
    k = M_PER_DEG * math.cos(math.radians(30.6))
    route = [[104.0, 30.6], [104.0 + 2000 / k, 30.6], [104.0 + 2000 / k, 30.6 + 2000 / M_PER_DEG]]
    corridor = {"type": "Corridor", "coordinates": route, "width_m": 200.0}
    east = np.array([1000.0, 1000.0, 1000.0, 2050.0, 2300.0])
    north = np.array([0.0, 80.0, 150.0, 1000.0, 1000.0])
    status, _ = classify(corridor, 104.0 + east / k, 30.6 + north / M_PER_DEG, np.full(5, 5.0))
    assert status.tolist() == [1, 1, 2, 1, 2]


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            r"Self-intersection\[0.5 0.5\]",
        ),
        (mapping(Point(0, 0)), "Polygon or MultiPolygon, got Point"),
        ({"type": "Circle", "center": [0, 0], "radius_m": -5}, "radius_m > 0"),
        ({"type": "Circle", "center": [200, 0], "radius_m": 5}, "WGS-84"),
        ({"type": "Circle", "center": ["x", 0], "radius_m": 5}, "center"),
        ({"type": "Circle", "center": [0, 0], "radius_m": 1e12}, "at most 1,000,000"),
        ({"type": "Corridor", "coordinates": [[0, 0], [1, 1]], "width_m": 1e300}, "at most"),
        ({"type": "Corridor", "coordinates": [[0, 0]], "width_m": 10}, "Corridor coordinates"),
        ({"type": "Corridor", "coordinates": [[0, 0], [1, 1]], "width_m": 0}, "width_m > 0"),
    ],
)
def test_a_bad_zone_is_refused_with_the_problem(geometry: dict[str, object], message: str) -> None:
    with pytest.raises(ZoneError, match=message):
        compile_shape(1, geometry)


def test_rings_compile_as_shapely_reads_them_closed_or_not() -> None:
    """The compiler takes the rings it parsed: an open ring is closed as shapely closes it,
    and a MultiPolygon's rings come part by part, exterior then holes, as shapely's."""
    hole = [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.4]]
    square = [[0, 0], [1, 0], [1, 1], [0, 1]]
    far = [[[2, 2], [3, 2], [3, 3], [2, 2]]]
    geometry = {"type": "MultiPolygon", "coordinates": [[square, hole], far]}
    closed = {"type": "MultiPolygon", "coordinates": [[square + square[:1], hole + hole[:1]], far]}
    a, b = compile_shape(1, geometry), compile_shape(1, closed)
    assert isinstance(a, CompiledPolygon)
    assert isinstance(b, CompiledPolygon)
    assert a.rings.ring_end.tolist() == b.rings.ring_end.tolist() == [4, 9, 13]
    geom = shapely.geometry.shape(closed)
    x, y = a.plane.project(*shapely.get_coordinates(geom).T)
    assert np.array_equal(a.rings.x, x)
    assert np.array_equal(a.rings.y, y)


def test_wkt_zones_are_accepted_and_checked() -> None:
    geojson = polygon_from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))")
    assert geojson["type"] == "Polygon"
    with pytest.raises(ZoneError, match="Self-intersection"):
        polygon_from_wkt("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))")
    with pytest.raises(ZoneError, match="not WKT"):
        polygon_from_wkt("POLYGON ((0 0, 1")


def test_a_shared_zone_is_compiled_once_and_pairs_follow_assignments() -> None:
    sq = mapping(Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)]))
    index = ZoneIndex.build(
        [Zone(1, "county", sq), Zone(2, "school", sq)],
        [
            Assignment(10, subject_id=7, zone_id=1, role=ZoneRole.INCLUSION),
            Assignment(11, subject_id=7, zone_id=2, role=ZoneRole.EXCLUSION),
            Assignment(12, subject_id=8, zone_id=1, role=ZoneRole.INCLUSION),
        ],
    )
    assert index.grid.zf.shape[0] == 2  # two zones compiled, whatever the assignments
    fixes = replace(
        batch(np.full(3, 0.005), np.full(3, 0.005), np.ones(3)), subject=np.array([8, 9, 7])
    )
    ev = index.evaluate(fixes)
    assert sorted(zip(ev.fix.tolist(), ev.assignment.tolist(), strict=True)) == [
        (0, 12),
        (2, 10),
        (2, 11),
    ]
    assert np.all(ev.status == ZoneStatus.INSIDE)


def test_a_bad_zone_or_schedule_is_left_out_and_the_rest_still_monitored() -> None:
    sq = mapping(Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)]))
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    index = ZoneIndex.build(
        [Zone(1, "good", sq), Zone(2, "bowtie", bowtie)],
        [
            Assignment(10, subject_id=1, zone_id=1, role=ZoneRole.INCLUSION),
            Assignment(11, subject_id=1, zone_id=2, role=ZoneRole.INCLUSION),
            Assignment(
                12,
                subject_id=1,
                zone_id=1,
                role=ZoneRole.EXCLUSION,
                schedule=Schedule(timezone="Nowhere/City"),
            ),
        ],
    )
    assert index.problems == (
        "zone 2 (bowtie) left out: invalid zone geometry: Self-intersection[0.5 0.5]",
        "assignment 12 left out: unknown time zone 'Nowhere/City'",
    )
    ev = index.evaluate(batch(np.array([0.005]), np.array([0.005]), np.array([5.0])))
    assert ev.assignment.tolist() == [10]


def test_an_index_built_from_the_previous_one_decides_as_a_fresh_one() -> None:
    """One zone reshaped, one added, one removed, one still invalid: the zones kept are taken
    from the previous index, and every fix is decided as by an index compiled afresh."""
    rng = np.random.default_rng(3)
    k = M_PER_DEG * math.cos(math.radians(30.6))

    def square(i: int, size_m: float) -> dict[str, object]:
        x0, y0 = 104.0 + i * 0.05, 30.6
        dx, dy = size_m / k, size_m / M_PER_DEG
        return mapping(Polygon([(x0, y0), (x0 + dx, y0), (x0 + dx, y0 + dy), (x0, y0 + dy)]))

    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    zones = [Zone(i, f"z{i}", square(i, 1000.0)) for i in range(1, 6)]
    zones += [
        Zone(6, "home", {"type": "Circle", "center": [104.3, 30.6], "radius_m": 200.0}),
        Zone(7, "bad", bowtie),
    ]
    assignments = [
        Assignment(10 + z.id, subject_id=1, zone_id=z.id, role=ZoneRole.INCLUSION) for z in zones
    ]
    before = ZoneIndex.build(zones, assignments)
    changed = [*zones[:1], Zone(2, "z2", square(2, 400.0)), *zones[3:]]
    changed.append(Zone(8, "z8", square(8, 700.0)))
    assignments.append(Assignment(18, subject_id=1, zone_id=8, role=ZoneRole.INCLUSION))

    reused = ZoneIndex.build(changed, assignments, previous=before)
    fresh = ZoneIndex.build(changed, assignments)

    lon = rng.uniform(103.99, 104.45, 3000)
    lat = rng.uniform(30.598, 30.611, 3000)
    fixes = batch(lon, lat, rng.uniform(0, 50, 3000))
    a, b = reused.evaluate(fixes), fresh.evaluate(fixes)
    assert np.array_equal(a.fix, b.fix)
    assert np.array_equal(a.assignment, b.assignment)
    assert np.array_equal(a.status, b.status)
    assert (a.status == ZoneStatus.INSIDE).sum() > 100
    assert (
        reused.problems
        == fresh.problems
        == ("zone 7 (bad) left out: invalid zone geometry: Self-intersection[0.5 0.5]",)
    )
    assert reused.grid.zf.shape[0] == fresh.grid.zf.shape[0] == 5  # z3 gone, z8 new


def test_warming_up_compiles_what_building_and_evaluating_use() -> None:
    """`scripts/_setup.sh` calls it so that the first index and batch do not compile."""
    warm_up()
    assert kernel.classify.signatures
    assert kernel.boundary_distance.signatures
    assert raster.rasterise.signatures
