"""Phone-wristband separation (人机分离): the phone must stay with the person.

Each fix is paired with the newest earlier fix of the subject's other device (from this batch
or remembered from earlier ones) if it is at most `pair_window_s` older. The older fix is
where the other device *was*: in the time between, the subject may have moved as far as the
newer fix's device moved in its own last interval (its speed times the time between the
pair), which counts like the accuracies: a pair farther apart than `separation_m` plus both
accuracies and that movement observes separation; one within `separation_m` even with all
of them added observes the two together; a pair in between (a cell fix a kilometre wide, or
a car a minute on) proves neither. The condition is confirmed after
`separation_s` of separation and ends after as long together. Both positions are WGS-84 by
now, so GCJ-02 phones do not drift apart.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from alerts.confirm import confirm
from domain import (
    AlertKind,
    Finding,
    FixBatch,
    SeparationStates,
    Text,
    by_key_then_time,
)
from domain.runs import ACCURACY, LAT, LON, TIME
from geofence import haversine

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from alerts.policy import Policies
    from domain import EpochSeconds, Ids

    Flags = NDArray[np.bool_]
    Fixes = NDArray[np.float64]  # rows of TIME, LON, LAT, ACCURACY

_NEVER = np.iinfo(np.int64).max  # a run length no run reaches: separation confirms by time


def separation_findings(
    batch: FixBatch,
    wristband: NDArray[np.bool_],
    state: SeparationStates,
    *,
    policies: Policies,
    paired: Ids,
) -> tuple[list[Finding], SeparationStates]:
    """`wristband[i]`: fix i comes from a wristband (else a phone). `paired`: sorted ids of
    the subjects that carry both; other subjects' fixes are ignored."""
    mine = np.flatnonzero(np.isin(batch.subject, paired))
    subject, time = batch.subject[mine], batch.time[mine]
    order = by_key_then_time(subject, time)
    pairs = _pair(
        order,
        subject,
        wristband[mine],
        (time, batch.lon[mine], batch.lat[mine], batch.accuracy[mine]),
        policies.column(subject, "pair_window_s"),
        policies.column(subject, "separation_m"),
        (state.key, state.phone, state.wristband),
    )
    far, decisive, apart, band_at, (key, phone, band) = pairs
    t = confirm(
        subject,
        time,
        far,
        decisive,
        state.run,
        min_run=np.full(subject.shape[0], _NEVER, dtype=np.int64),
        min_span_s=policies.column(subject, "separation_s"),
        order=order,
    )
    findings = [
        Finding(
            kind=AlertKind.SEPARATION,
            subject_id=subject_id,
            time=fix_time,
            message=Text("separation_apart" if active else "separation_together", {"m": m}),
            lon=lon,
            lat=lat,
            cleared=not active,
        )
        for subject_id, fix_time, active, m, lon, lat in zip(
            subject[t.rows].tolist(),
            time[t.rows].tolist(),
            t.active.tolist(),
            apart[t.rows].tolist(),
            band_at[t.rows, 0].tolist(),
            band_at[t.rows, 1].tolist(),
            strict=True,
        )
    ]
    run = state.run.columns(key).updated(t.state)
    return findings, SeparationStates(key=key, run=run, phone=phone, wristband=band)


@nb.njit(cache=True, error_model="numpy")
def _pair(
    order: Ids,
    subject: Ids,
    band: Flags,
    fixes: tuple[EpochSeconds, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    window: EpochSeconds,
    limit: NDArray[np.float64],
    state: tuple[Ids, Fixes, Fixes],
) -> tuple[Flags, Flags, NDArray[np.float64], Fixes, tuple[Ids, Fixes, Fixes]]:
    """Each fix (in (subject, time) `order`) against the newest earlier fix of the subject's
    other device, remembered ones included: whether it observes the two apart, whether the
    observation is decisive, how far apart they are and where the wristband was; and per
    subject, each device's newest fix after the batch."""
    time, lon, lat, accuracy = fixes
    state_key, state_phone, state_band = state
    n = order.shape[0]
    far, decisive = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    apart, band_at = np.zeros(n), np.zeros((n, 2))
    key, newest_phone, newest_band = np.empty(n, np.int64), np.empty((n, 4)), np.empty((n, 4))
    m = i = 0
    while i < n:
        s = subject[order[i]]
        at = np.searchsorted(state_key, s)
        known = at < state_key.shape[0] and state_key[at] == s
        phone = wrist = (np.nan, np.nan, np.nan, np.nan)
        if known:
            p, w = state_phone, state_band
            phone = (p[at, TIME], p[at, LON], p[at, LAT], p[at, ACCURACY])
            wrist = (w[at, TIME], w[at, LON], w[at, LAT], w[at, ACCURACY])
        while i < n and subject[order[i]] == s:
            r = order[i]
            i += 1
            here = (time[r], lon[r], lat[r], accuracy[r])
            own, other = (wrist, phone) if band[r] else (phone, wrist)
            speed = 0.0
            if not math.isnan(own[0]):
                moved = haversine(own[1], own[2], here[1], here[2])
                speed = moved / max(here[0] - own[0], 1.0)
            if not math.isnan(other[0]) and here[0] - other[0] <= window[r]:
                d = haversine(here[1], here[2], other[1], other[2])
                slack = here[3] + other[3]
                way = speed * (here[0] - other[0])
                far[r] = d - slack - way > limit[r]
                near = d + slack + way <= limit[r]
                # apart, but no farther than the way covered since the older fix: as two
                # devices in one car would be; it breaks a run of apart (it does not prove
                # them apart)
                explained = not far[r] and d - slack > limit[r]
                decisive[r] = far[r] or near or explained
                apart[r] = d
                where = here if band[r] else other
                band_at[r, 0], band_at[r, 1] = where[1], where[2]
            if band[r]:
                wrist = here
            else:
                phone = here
        key[m] = s
        newest_phone[m, TIME], newest_phone[m, LON] = phone[0], phone[1]
        newest_phone[m, LAT], newest_phone[m, ACCURACY] = phone[2], phone[3]
        newest_band[m, TIME], newest_band[m, LON] = wrist[0], wrist[1]
        newest_band[m, LAT], newest_band[m, ACCURACY] = wrist[2], wrist[3]
        m += 1
    return far, decisive, apart, band_at, (key[:m], newest_phone[:m], newest_band[:m])
