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

from domain import Around, Assignment, FixBatch, Ids, Metres, Verdict, Zone, ZoneRole, ZoneStatus
from geofence.compile import compile_shape
from geofence.index import Evaluation, ZoneIndex
from geofence.sphere import beyond_circle

if TYPE_CHECKING:
    from domain import Lat, Lon


@dataclass(frozen=True, slots=True)
class Area:
    """The area as the pipeline's geofence compiles it."""

    index: ZoneIndex

    @classmethod
    def of(cls, geometry: dict[str, Any]) -> Area:
        """ZoneError (saying what is wrong) for a geometry the zones would refuse."""
        compile_shape(0, geometry)
        return cls(
            ZoneIndex.build([Zone(1, "area", geometry)], [Assignment(1, 1, 1, ZoneRole.INCLUSION)])
        )

    def status(self, lon: Lon, lat: Lat, accuracy: Metres) -> tuple[NDArray[np.int8], Metres]:
        """Each position's status against the area and, where it is outside, a lower bound
        of its distance to the area (to a circle around it; exact for a circle), else 0."""
        n = lon.shape[0]
        status = np.full(n, int(ZoneStatus.OUTSIDE), np.int8)
        if n:
            ev = self._evaluate(lon, lat, accuracy)
            status[ev.fix] = ev.status
        centre_lon, centre_lat, radius = self.index.bounds[0]
        bound = beyond_circle(lon, lat, centre_lon, centre_lat, radius)
        bound[status != int(ZoneStatus.OUTSIDE)] = 0.0
        return status, bound

    def distance(self, lon: Lon, lat: Lat, accuracy: Metres) -> Metres:
        """Each position's distance to the area, 0 where its accuracy reaches in (the
        exact distance to a polygon costs ~10 us a fix: asked only where it decides)."""
        out = np.zeros(lon.shape[0])
        if lon.shape[0]:
            ev = self._evaluate(lon, lat, accuracy)
            far = np.flatnonzero(ev.status == int(ZoneStatus.OUTSIDE))
            out[ev.fix[far]] = ev.boundary_distance(far)
        return out

    def _evaluate(self, lon: Lon, lat: Lat, accuracy: Metres) -> Evaluation:
        n = lon.shape[0]
        return self.index.evaluate(
            FixBatch.measured(np.ones(n, np.int64), np.zeros(n), lon, lat, accuracy)
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """Per subject of `Around` (sorted by id): the verdict and the rows that decide it
    (`row`, and `gap_to_next` where it is the gap from that row to the subject's next fix
    or, for a row without one, the window's end; `gap_from_start` where it is the window's
    start to that row). For WAS_ELSEWHERE the row is the subject's nearest fix in the window
    (else the nearest of those around it), nearest to a circle around the area. `status` of
    every row; `distance` and `next_distance` exact for the deciding rows and their next
    fixes, lower bounds elsewhere."""

    subject: Ids
    verdict: NDArray[np.int8]
    row: Ids
    gap_to_next: NDArray[np.bool_]
    gap_from_start: NDArray[np.bool_]
    status: NDArray[np.int8]
    distance: Metres
    next_distance: Metres


def judge(area: Area, fixes: Around, *, since: float, until: float, max_speed: float) -> Answer:
    """Each subject's verdict over [since, until] from the fixes around it.

    Gaps are judged first with lower bounds of the distances, which can only allow more;
    the exact distances are then taken for the fixes of the gaps that allowed it, and the
    gaps judged again.
    """
    t = fixes.time
    status, distance = area.status(fixes.lon, fixes.lat, fixes.accuracy)
    has_next = ~np.isnan(fixes.next_time)
    # where the next fix is the next row (a store that sends every fix: nearly always), its
    # status and distances are the row's; the rest are judged as positions of their own
    row_next = np.zeros(t.shape[0], dtype=np.bool_)
    row_next[:-1] = (
        has_next[:-1]
        & (fixes.subject[1:] == fixes.subject[:-1])
        & (t[1:] == fixes.next_time[:-1])
        & (fixes.lon[1:] == fixes.next_lon[:-1])
        & (fixes.lat[1:] == fixes.next_lat[:-1])
        & (fixes.accuracy[1:] == fixes.next_accuracy[:-1])
    )
    apart = np.flatnonzero(has_next & ~row_next)
    own = np.flatnonzero(row_next)
    next_status = np.full(t.shape[0], int(ZoneStatus.OUTSIDE), np.int8)
    next_distance = np.zeros(t.shape[0])
    next_status[own], next_distance[own] = status[own + 1], distance[own + 1]
    next_status[apart], next_distance[apart] = area.status(*_next(fixes, apart))
    gaps = _Gaps(fixes, status, next_status, since, until, max_speed)
    to_next, from_start = gaps.open(distance, next_distance)
    open_ = to_next | from_start
    exact = np.flatnonzero(open_ | np.append(False, (open_ & row_next)[:-1]))
    distance[exact] = area.distance(fixes.lon[exact], fixes.lat[exact], fixes.accuracy[exact])
    next_distance[own] = distance[own + 1]
    later = apart[open_[apart]]
    next_distance[later] = area.distance(*_next(fixes, later))
    to_next, from_start = gaps.open(distance, next_distance)

    within = (t >= since) & (t <= until)
    code = np.full(t.shape[0], int(Verdict.WAS_ELSEWHERE), np.int8)
    code[to_next | from_start] = Verdict.MAY_HAVE_BEEN_THERE
    code[within & (status == int(ZoneStatus.UNCERTAIN))] = Verdict.MAY_HAVE_BEEN_THERE
    code[within & (status == int(ZoneStatus.INSIDE))] = Verdict.WAS_THERE

    subject, first = np.unique(fixes.subject, return_index=True)
    verdict = np.maximum.reduceat(code, first) if t.shape[0] else code
    sizes = np.diff(np.append(first, t.shape[0]))
    # the deciding row: the first (in time) with the verdict; for "elsewhere", the nearest
    # fix (by the lower bound), those in the window before those around it
    key = np.where(code == np.repeat(verdict, sizes), 0, 1)
    elsewhere = np.repeat(verdict == Verdict.WAS_ELSEWHERE, sizes)
    near = np.where(elsewhere, np.where(within, 0.0, 1e12) + distance, 0.0)
    row = np.lexsort((t, near, key, fixes.subject))[first]
    shown = row[verdict == Verdict.WAS_ELSEWHERE]
    distance[shown] = area.distance(fixes.lon[shown], fixes.lat[shown], fixes.accuracy[shown])
    by_gap = (code[row] == Verdict.MAY_HAVE_BEEN_THERE) & ~(
        within[row] & (status[row] == int(ZoneStatus.UNCERTAIN))
    )
    return Answer(
        subject=subject,
        verdict=verdict,
        row=row,
        gap_to_next=to_next[row] & by_gap,
        gap_from_start=from_start[row] & ~to_next[row] & by_gap,
        status=status,
        distance=distance,
        next_distance=next_distance,
    )


def _next(fixes: Around, rows: Ids) -> tuple[Lon, Lat, Metres]:
    return fixes.next_lon[rows], fixes.next_lat[rows], fixes.next_accuracy[rows]


@dataclass(frozen=True, slots=True)
class _Gaps:
    fixes: Around
    status: NDArray[np.int8]
    next_status: NDArray[np.int8]
    since: float
    until: float
    max_speed: float

    def open(self, distance: Metres, next_distance: Metres) -> tuple[NDArray[np.bool_], ...]:
        """(from each fix to the next, or to the window's end where none is known; from the
        window's start to a fix with none before): could the subject have been there?"""
        f, since, until = self.fixes, self.since, self.until
        reach = np.maximum(distance - f.accuracy, 0.0) / self.max_speed
        reach[self.status != int(ZoneStatus.OUTSIDE)] = 0.0
        next_reach = np.maximum(next_distance - np.nan_to_num(f.next_accuracy), 0.0)
        next_reach /= self.max_speed
        next_reach[self.next_status != int(ZoneStatus.OUTSIDE)] = 0.0
        # between this fix and the next the subject can be there from lo until hi
        lo = np.maximum(since, f.time + reach)
        hi = np.where(np.isnan(f.next_time), until, np.minimum(until, f.next_time - next_reach))
        from_start = ~f.has_previous & (f.time > since) & (since <= f.time - reach)
        return lo <= hi, from_start
