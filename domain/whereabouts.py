"""Who was there then (核查): the answers, and the fixes a store finds around a window."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from domain.fixes import EpochSeconds, Ids, Lat, Lon, Metres

# How far before and after the window a subject's fixes are looked for: a side with no fix
# within it allows anything (at 120 km/h an hour is 120 km: beyond a county either way).
HORIZON_S = 3600.0


class Verdict(IntEnum):
    """Ordered: a subject's answer is the strongest any of their fixes or gaps gives."""

    NO_DATA = 0  # no fix in the window nor within the horizon around it
    WAS_ELSEWHERE = 1  # every fix outside beyond its accuracy, every gap too short to go there
    MAY_HAVE_BEEN_THERE = 2  # a fix whose accuracy reaches the area, or a gap that allows it
    WAS_THERE = 3  # a fix in the window inside the area with all of its accuracy


@dataclass(frozen=True, slots=True)
class Around:
    """A store's fixes around a window, sorted by subject then time: those in the window
    (at least those that can matter), each subject's last before it and first after it
    within the horizon, and as many others as the store likes (any fix is judged right);
    each with the subject's next fix, NaN where there is none within the horizon."""

    subject: Ids
    device: Ids
    time: EpochSeconds
    lon: Lon
    lat: Lat
    accuracy: Metres
    has_previous: NDArray[np.bool_]  # a fix before this one within the horizon
    next_device: Ids  # -1 where there is no next fix
    next_time: EpochSeconds
    next_lon: Lon
    next_lat: Lat
    next_accuracy: Metres
    in_window: Ids  # the subject's fixes in the window, all of them (not only these)
