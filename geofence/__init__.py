"""Zones compiled into arrays and evaluated against whole batches of fixes; no I/O."""

from geofence.compile import (
    CompiledCircle,
    CompiledPolygon,
    Plane,
    ZoneError,
    compile_shape,
    parse_zone_geometry,
    polygon_from_wkt,
)
from geofence.grid import EARTH_RADIUS_M
from geofence.index import Evaluation, ZoneIndex, warm_up
from geofence.kernel import BOUNDARY_TOLERANCE_M
from geofence.schedules import ScheduleError, check_schedule
from geofence.sphere import haversine

__all__ = [
    "BOUNDARY_TOLERANCE_M",
    "EARTH_RADIUS_M",
    "CompiledCircle",
    "CompiledPolygon",
    "Evaluation",
    "Plane",
    "ScheduleError",
    "ZoneError",
    "ZoneIndex",
    "check_schedule",
    "compile_shape",
    "haversine",
    "parse_zone_geometry",
    "polygon_from_wkt",
    "warm_up",
]
