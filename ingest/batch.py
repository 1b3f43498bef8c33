"""Validated fixes -> one FixBatch of numpy arrays, in WGS-84."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from domain import FixBatch
from domain.crs import Crs, to_wgs84

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ingest.wire import DecodedFix


def to_batch(fixes: Sequence[DecodedFix]) -> FixBatch:
    def col(name: str, dtype: type[np.generic]) -> np.ndarray:
        return np.fromiter((getattr(f, name) for f in fixes), dtype=dtype, count=len(fixes))

    lon, lat = col("lon", np.float64), col("lat", np.float64)
    crs = np.array([f.crs for f in fixes], dtype=object)
    for system in (Crs.GCJ02, Crs.BD09):
        rows = np.flatnonzero(crs == system)
        if rows.size:
            lon[rows], lat[rows] = to_wgs84(system, lon[rows], lat[rows])
    return FixBatch(
        subject=col("subject_id", np.int64),
        device=col("device_id", np.int64),
        time=col("time", np.float64),
        lon=lon,
        lat=lat,
        accuracy=col("accuracy", np.float64),
        source=[f.source for f in fixes],
        battery=col("battery", np.int16),
        seq=col("seq", np.int64),
        received=col("received", np.float64),
        mock=col("mock", np.bool_),
    )
