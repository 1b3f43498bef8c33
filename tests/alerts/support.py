"""Building rule inputs by hand for the pure rule tests."""

from __future__ import annotations

import numpy as np

from alerts import Policies
from domain import FixBatch, FixSource, LevelPolicy, SupervisionLevel

POLICY = LevelPolicy(
    phone_interval_s=60,
    wristband_interval_s=30,
    silence_grace_s=60,
    confirm_fixes=2,
    confirm_s=1e9,
    separation_m=100,
    separation_s=10,
    pair_window_s=30,
)


def policies(subjects: list[int], policy: LevelPolicy = POLICY) -> Policies:
    """Every subject at one level with `policy`."""
    return Policies.build(
        dict.fromkeys(subjects, SupervisionLevel.NORMAL), dict.fromkeys(SupervisionLevel, policy)
    )


def batch(
    subject: list[int],
    time: list[float],
    *,
    device: list[int] | None = None,
    lon: list[float] | None = None,
    lat: list[float] | None = None,
    accuracy: list[float] | None = None,
) -> FixBatch:
    n = len(subject)
    return FixBatch(
        subject=np.array(subject, dtype=np.int64),
        device=np.array(device if device is not None else subject, dtype=np.int64),
        time=np.array(time, dtype=np.float64),
        lon=np.array(lon if lon is not None else [104.0] * n, dtype=np.float64),
        lat=np.array(lat if lat is not None else [30.6] * n, dtype=np.float64),
        accuracy=np.array(accuracy if accuracy is not None else [10.0] * n, dtype=np.float64),
        source=[FixSource.GNSS] * n,
        battery=np.full(n, 50, np.int16),
        seq=np.arange(n, dtype=np.int64),
        received=np.array(time, dtype=np.float64),
        mock=np.zeros(n, np.bool_),
    )
