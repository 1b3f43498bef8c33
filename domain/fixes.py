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

    `battery` and `seq` hold -1 where the device did not report them; `mock`: the device
    said the position came from a mock location provider.
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
    mock: NDArray[np.bool_]

    @classmethod
    def measured(
        cls,
        subject: Ids,
        time: EpochSeconds,
        lon: Lon,
        lat: Lat,
        accuracy: Metres,
        *,
        device: Ids | None = None,
    ) -> FixBatch:
        """GNSS positions made here rather than received (a warm-up, a position judged
        again at a later time, a benchmark): no battery, no sequence, received when taken;
        device -1 unless given."""
        n = subject.shape[0]
        return cls(
            subject=subject,
            device=np.full(n, -1, np.int64) if device is None else device,
            time=time,
            lon=lon,
            lat=lat,
            accuracy=accuracy,
            source=[FixSource.GNSS] * n,
            battery=np.full(n, -1, np.int16),
            seq=np.full(n, -1, np.int64),
            received=time,
            mock=np.zeros(n, np.bool_),
        )

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
            mock=self.mock[rows],
        )
