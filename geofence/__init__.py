"""Zones compiled into arrays and evaluated against whole batches of fixes; no I/O."""

from geofence.compile import CompiledZone, ZoneError, compile_zone, parse_zone_geometry
from geofence.evaluate import BOUNDARY_TOLERANCE_M, evaluate_zone
from geofence.index import Evaluation, ZoneIndex

__all__ = [
    "BOUNDARY_TOLERANCE_M",
    "CompiledZone",
    "Evaluation",
    "ZoneError",
    "ZoneIndex",
    "compile_zone",
    "evaluate_zone",
    "parse_zone_geometry",
]
