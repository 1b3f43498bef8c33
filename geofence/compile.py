"""Zone geometry in: validated with shapely, turned into rings or circles in a local plane."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from geofence.grid import M_PER_DEG, Rings

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from shapely.geometry.base import BaseGeometry


class ZoneError(ValueError):
    """A zone that cannot be compiled; the message names the problem and where."""


@dataclass(frozen=True, slots=True)
class Plane:
    """An equirectangular plane centred on a zone: metres east / north of the origin, the
    zone's index (distances are measured on the sphere, geofence/kernel.py)."""

    origin_lon: float
    origin_lat: float

    @property
    def m_per_deg_lon(self) -> float:
        return M_PER_DEG * math.cos(math.radians(self.origin_lat))

    def project(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (lon - self.origin_lon) * self.m_per_deg_lon, (lat - self.origin_lat) * M_PER_DEG

    def unproject(self, x: float, y: float) -> tuple[float, float]:
        """A point of the plane as (lon, lat)."""
        return self.origin_lon + x / self.m_per_deg_lon, self.origin_lat + y / M_PER_DEG


@dataclass(frozen=True, slots=True)
class CompiledPolygon:
    zone_id: int
    plane: Plane
    rings: Rings


@dataclass(frozen=True, slots=True)
class CompiledCircle:
    zone_id: int
    plane: Plane  # centred on the circle's centre
    radius_m: float


CompiledShape = CompiledPolygon | CompiledCircle


def _check_lon_lat(geom: Polygon | MultiPolygon | LineString) -> None:
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise ZoneError("zone coordinates must be WGS-84 lon/lat in degrees")


def _ring(positions: list[Any]) -> NDArray[np.float64]:
    """[[lon, lat], ...] -> (n, 2), closed as shapely closes it: flattened by an iterator,
    twice as fast as numpy's nested-list conversion."""
    flat = np.fromiter(itertools.chain.from_iterable(positions), dtype=np.float64)
    if flat.shape[0] != 2 * len(positions) or not positions:
        raise ValueError("rings must be lists of [lon, lat] positions")
    ring = flat.reshape(-1, 2)
    return ring if (ring[0] == ring[-1]).all() else np.vstack([ring, ring[:1]])


def _rings(rings: list[Any]) -> list[NDArray[np.float64]]:
    if not rings:
        raise ValueError("rings must be lists of [lon, lat] positions")
    return [_ring(r) for r in rings]


def _shape(geometry: dict[str, Any]) -> tuple[BaseGeometry, list[NDArray[np.float64]] | None]:
    """GeoJSON -> shapely, and for (Multi)Polygons their rings, part by part, exterior then
    holes: built from numpy arrays, which for thousands of vertices is many times faster
    than shapely's per-vertex GeoJSON reader (and the compiler takes the arrays as they
    are, without asking shapely for them again)."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon" and isinstance(coords, list):
        rings = _rings(coords)
        return Polygon(rings[0], rings[1:]), rings
    if kind == "MultiPolygon" and isinstance(coords, list):
        parts = [_rings(p) for p in coords]
        return MultiPolygon([Polygon(r[0], r[1:]) for r in parts]), [r for p in parts for r in p]
    geom: BaseGeometry = shape(geometry)
    return geom, None


def _validated(
    geometry: dict[str, Any],
) -> tuple[Polygon | MultiPolygon, list[NDArray[np.float64]]]:
    """A valid (Multi)Polygon and its rings, or ZoneError saying what is wrong."""
    try:
        geom, rings = _shape(geometry)
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        shapely.errors.GEOSException,
    ) as exc:
        raise ZoneError(f"not a GeoJSON geometry: {exc}") from exc
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ZoneError(f"a zone must be a Polygon or MultiPolygon, got {geom.geom_type}")
    if geom.is_empty:
        raise ZoneError("the zone geometry is empty")
    if not geom.is_valid:
        raise ZoneError(f"invalid zone geometry: {explain_validity(geom)}")
    _check_lon_lat(geom)
    if rings is None:
        rings = [shapely.get_coordinates(r) for r in shapely.get_rings(shapely.get_parts(geom))]
    return geom, rings


def parse_zone_geometry(geometry: dict[str, Any]) -> Polygon | MultiPolygon:
    """GeoJSON (Multi)Polygon -> valid shapely geometry, or ZoneError saying what is wrong."""
    return _validated(geometry)[0]


def polygon_from_wkt(text: str) -> dict[str, Any]:
    """WKT (Multi)Polygon -> the GeoJSON form zones are stored in; ZoneError if it is not."""
    try:
        geom = shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        raise ZoneError(f"not WKT: {exc}") from exc
    result: dict[str, Any] = shapely.geometry.mapping(geom)
    parse_zone_geometry(result)
    return result


# No zone is wider than a province: a larger radius or width is a mistake (and a width
# near the float limit overflows the buffer that builds a corridor).
_MAX_SIZE_M = 1_000_000.0


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(spec: dict[str, Any], key: str) -> float:
    value = spec.get(key)
    if not _number(value) or not 0 < value <= _MAX_SIZE_M:
        raise ZoneError(
            f"{spec.get('type')} needs {key} > 0 in metres, at most {_MAX_SIZE_M:,.0f},"
            f" got {value!r}"
        )
    return float(value)


def _circle(zone_id: int, spec: dict[str, Any]) -> CompiledCircle:
    centre = spec.get("center")
    if not (isinstance(centre, list | tuple) and len(centre) == 2 and all(map(_number, centre))):
        raise ZoneError(f"Circle needs center [lon, lat], got {centre!r}")
    lon, lat = (float(c) for c in centre)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ZoneError("zone coordinates must be WGS-84 lon/lat in degrees")
    return CompiledCircle(zone_id, Plane(lon, lat), _positive(spec, "radius_m"))


def _corridor(zone_id: int, spec: dict[str, Any]) -> CompiledPolygon:
    """A route and its width: the buffer of the path, built in metres."""
    width = _positive(spec, "width_m")
    try:
        path = LineString(spec.get("coordinates") or [])
    except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
        raise ZoneError(f"Corridor coordinates must be [[lon, lat], ...]: {exc}") from exc
    if path.is_empty or path.length == 0:
        raise ZoneError("Corridor needs at least two distinct points")
    _check_lon_lat(path)
    centre = path.centroid
    plane = Plane(centre.x, centre.y)
    xy = shapely.get_coordinates(path)
    x, y = plane.project(xy[:, 0], xy[:, 1])
    local = LineString(np.column_stack([x, y])).buffer(width / 2, quad_segs=8)
    coords = [shapely.get_coordinates(r) for r in shapely.get_rings(shapely.get_parts(local))]
    flat = np.concatenate(coords)
    rings = Rings(x=flat[:, 0], y=flat[:, 1], ring_end=np.cumsum([len(c) for c in coords]) - 1)
    return CompiledPolygon(zone_id, plane, rings)


def compile_shape(zone_id: int, geometry: dict[str, Any]) -> CompiledShape:
    kind = geometry.get("type")
    if kind == "Circle":
        return _circle(zone_id, geometry)
    if kind == "Corridor":
        return _corridor(zone_id, geometry)
    geom, rings = _validated(geometry)
    centre = geom.centroid
    plane = Plane(centre.x, centre.y)
    flat = np.concatenate(rings)
    x, y = plane.project(flat[:, 0], flat[:, 1])
    ends = np.cumsum([r.shape[0] for r in rings], dtype=np.int64) - 1
    return CompiledPolygon(zone_id, plane, Rings(x=x, y=y, ring_end=ends))
