"""Zones compiled into arrays and evaluated against whole batches of fixes; no I/O."""

from geofence.compile import CompiledZone, ZoneError, compile_zone, parse_zone_geometry
from geofence.evaluate import evaluate_zone
from geofence.index import Evaluation, ZoneIndex

__all__ = [
    "CompiledZone",
    "Evaluation",
    "ZoneError",
    "ZoneIndex",
    "compile_zone",
    "evaluate_zone",
    "parse_zone_geometry",
]
