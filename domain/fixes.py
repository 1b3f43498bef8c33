"""Position fixes as the hot path sees them: one batch, one array per field."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
from numpy.typing import NDArray

Ids = NDArray[np.int64]
Lon = NDArray[np.float64]
Lat = NDArray[np.float64]
Metres = NDArray[np.float64]
EpochSeconds = NDArray[np.float64]
Codes = NDArray[np.int8]


class FixSource(StrEnum):
    """How the device obtained the position; accuracy differs by orders of magnitude."""

    GNSS = "gnss"
    WIFI = "wifi"
    CELL = "cell"


class ZoneStatus(IntEnum):
    """Where a fix lies relative to a zone, given its accuracy circle."""

    INSIDE = 1
    OUTSIDE = 2
    UNCERTAIN = 3  # the accuracy circle crosses the boundary: proves neither side


@dataclass(frozen=True, slots=True)
class FixBatch:
    """Validated fixes in WGS-84, metres and UTC epoch seconds, one row per fix.

    `battery` and `seq` hold -1 where the device did not report them.
    """

    subject: Ids
    device: Ids
    time: EpochSeconds
    lon: Lon
    lat: Lat
    accuracy: Metres
    source: list[FixSource]
    battery: NDArray[np.int16]
    seq: Ids
    received: EpochSeconds

    def __len__(self) -> int:
        return int(self.subject.shape[0])

    def take(self, rows: Ids) -> FixBatch:
        """The batch's rows `rows`, in that order."""
        return FixBatch(
            subject=self.subject[rows],
            device=self.device[rows],
            time=self.time[rows],
            lon=self.lon[rows],
            lat=self.lat[rows],
            accuracy=self.accuracy[rows],
            source=[self.source[i] for i in rows.tolist()],
            battery=self.battery[rows],
            seq=self.seq[rows],
            received=self.received[rows],
        )
