"""Shared for geofence tests: classify fixes against one zone through the public index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from domain import ALWAYS, Assignment, FixBatch, FixSource, Schedule, Zone, ZoneRole
from geofence import ZoneIndex

if TYPE_CHECKING:
    from numpy.typing import NDArray


def batch(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    *,
    time: NDArray[np.float64] | None = None,
    subject: int = 1,
) -> FixBatch:
    n = lon.shape[0]
    return FixBatch(
        subject=np.full(n, subject, np.int64),
        device=np.zeros(n, np.int64),
        time=np.zeros(n) if time is None else time,
        lon=lon,
        lat=lat,
        accuracy=accuracy,
        source=[FixSource.GNSS] * n,
        battery=np.zeros(n, np.int16),
        seq=np.zeros(n, np.int64),
        received=np.zeros(n),
        mock=np.zeros(n, np.bool_),
    )


def classify(
    geometry: dict[str, Any],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    schedule: Schedule = ALWAYS,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Status of each fix against the zone, and its distance to the boundary. The zone is
    assigned as inclusion and as exclusion: both must give the same status."""
    index = ZoneIndex.build(
        [Zone(1, "z", geometry)],
        [
            Assignment(1, subject_id=1, zone_id=1, role=ZoneRole.INCLUSION, schedule=schedule),
            Assignment(2, subject_id=1, zone_id=1, role=ZoneRole.EXCLUSION, schedule=schedule),
        ],
    )
    ev = index.evaluate(batch(lon, lat, accuracy))
    inc = np.flatnonzero(ev.assignment == 1)
    assert np.array_equal(ev.status[inc], ev.status[ev.assignment == 2])
    return ev.status[inc], ev.boundary_distance(inc)
