"""Who was there then (核查): from a subject's fixes around a time window, was the subject in
an area during it, may they have been, or do their fixes prove they were elsewhere.

Judged by the zone index itself (the area compiled as a zone: the same accuracy-aware,
sphere-true test as the pipeline's), and between fixes by speed: a subject last seen
`e` metres beyond the area (its distance less the fix's accuracy) needs `e / max_speed`
seconds to reach it. A gap between two fixes allows a visit in the window when the time
left after going there from the first and before coming back to the second overlaps it;
a side with no fix near the window (none within the query's horizon) allows anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from domain import Assignment, FixBatch, Ids, Metres, Verdict, Zone, ZoneRole, ZoneStatus
from geofence.compile import compile_shape
from geofence.index import ZoneIndex

if TYPE_CHECKING:
    from domain import Around, EpochSeconds, Lat, Lon


@dataclass(frozen=True, slots=True)
class Area:
    """The area as the pipeline's geofence compiles it, and a circle around it (lon, lat,
    radius in metres) that a store can filter by: nothing outside the circle is nearer
    to the area than to the circle."""

    index: ZoneIndex
    centre_lon: float
    centre_lat: float
    radius_m: float

    @classmethod
    def of(cls, geometry: dict[str, Any]) -> Area:
        """ZoneError (saying what is wrong) for a geometry the zones would refuse."""
        compile_shape(0, geometry)
        index = ZoneIndex.build(
            [Zone(1, "area", geometry)], [Assignment(1, 1, 1, ZoneRole.INCLUSION)]
        )
        lon, lat, radius = index.bounds[0]
        return cls(index, float(lon), float(lat), float(radius))

    def judge(
        self, time: EpochSeconds, lon: Lon, lat: Lat, accuracy: Metres
    ) -> tuple[NDArray[np.int8], Metres]:
        """Each position's status against the area and its distance to it (0 where it is
        inside or its accuracy reaches the area)."""
        n = time.shape[0]
        status = np.full(n, int(ZoneStatus.OUTSIDE), np.int8)
        distance = np.zeros(n)
        if n == 0:
            return status, distance
        ev = self.index.evaluate(FixBatch.measured(np.ones(n, np.int64), time, lon, lat, accuracy))
        status[ev.fix] = ev.status
        out = np.flatnonzero(ev.status == int(ZoneStatus.OUTSIDE))
        distance[ev.fix[out]] = ev.boundary_distance(out)
        return status, distance


@dataclass(frozen=True, slots=True)
class Answer:
    """Per subject of `Around` (sorted by id): the verdict and the rows that decide it
    (`row`, and `gap_to_next` where it is the gap from that row to the subject's next fix
    or, for a row without one, the window's end; `gap_from_start` where it is the window's
    start to that row). For WAS_ELSEWHERE the row is the subject's nearest fix in the window
    (else the nearest of those around it). `status` and `distance` of every row."""

    subject: Ids
    verdict: NDArray[np.int8]
    row: Ids
    gap_to_next: NDArray[np.bool_]
    gap_from_start: NDArray[np.bool_]
    status: NDArray[np.int8]
    distance: Metres
    next_distance: Metres


def judge(area: Area, fixes: Around, *, since: float, until: float, max_speed: float) -> Answer:
    """Each subject's verdict over [since, until] from the fixes around it."""
    status, distance = area.judge(fixes.time, fixes.lon, fixes.lat, fixes.accuracy)
    has_next = ~np.isnan(fixes.next_time)
    ns, nd = area.judge(
        fixes.next_time[has_next],
        fixes.next_lon[has_next],
        fixes.next_lat[has_next],
        fixes.next_accuracy[has_next],
    )
    next_status = np.full(status.shape[0], int(ZoneStatus.OUTSIDE), np.int8)
    next_distance = np.zeros(status.shape[0])
    next_status[has_next], next_distance[has_next] = ns, nd
    reach = np.maximum(distance - fixes.accuracy, 0.0) / max_speed
    reach[status != int(ZoneStatus.OUTSIDE)] = 0.0
    next_reach = np.maximum(next_distance - np.nan_to_num(fixes.next_accuracy), 0.0) / max_speed
    next_reach[next_status != int(ZoneStatus.OUTSIDE)] = 0.0

    t = fixes.time
    within = (t >= since) & (t <= until)
    # from this fix to the next (or to the window's end where none is known), the subject
    # can be there from `lo` until `hi`
    lo = np.maximum(since, t + reach)
    hi = np.where(has_next, np.minimum(until, fixes.next_time - next_reach), until)
    gap_to_next = lo <= hi
    gap_from_start = ~fixes.has_previous & (t > since) & (since <= np.minimum(until, t - reach))

    code = np.full(t.shape[0], int(Verdict.WAS_ELSEWHERE), np.int8)
    code[gap_to_next | gap_from_start] = Verdict.MAY_HAVE_BEEN_THERE
    code[within & (status == int(ZoneStatus.UNCERTAIN))] = Verdict.MAY_HAVE_BEEN_THERE
    code[within & (status == int(ZoneStatus.INSIDE))] = Verdict.WAS_THERE

    subject, first = np.unique(fixes.subject, return_index=True)
    verdict = np.maximum.reduceat(code, first) if t.shape[0] else code
    # the deciding row: the first (in time) with the verdict; for "elsewhere", the nearest
    # fix, those in the window before those around it
    key = np.where(code == np.repeat(verdict, np.diff(np.append(first, t.shape[0]))), 0, 1)
    elsewhere = np.repeat(verdict == Verdict.WAS_ELSEWHERE, np.diff(np.append(first, t.shape[0])))
    near = np.where(elsewhere, np.where(within, 0.0, 1e12) + distance, 0.0)
    order = np.lexsort((t, near, key, fixes.subject))
    row = order[first]
    by_gap = (code[row] == Verdict.MAY_HAVE_BEEN_THERE) & ~(
        within[row] & (status[row] == int(ZoneStatus.UNCERTAIN))
    )
    return Answer(
        subject=subject,
        verdict=verdict,
        row=row,
        gap_to_next=gap_to_next[row] & by_gap,
        gap_from_start=gap_from_start[row] & ~gap_to_next[row] & by_gap,
        status=status,
        distance=distance,
        next_distance=next_distance,
    )
