"""The zone index the pipeline holds: compiled zones, schedules, who is assigned to what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import Codes, Ids, Metres, ZoneRole
from geofence import kernel
from geofence.compile import (
    M_PER_DEG,
    CompiledCircle,
    CompiledPolygon,
    CompiledShape,
    ZoneError,
    compile_shape,
)
from geofence.grid import (
    BOUNDARY_TOLERANCE_M,
    PolygonGrid,
    build_grid,
    evaluate_polygons,
    zone_edges_test,
)
from geofence.schedules import (
    ScheduleError,
    Schedules,
    active,
    check_schedule,
    compile_schedules,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from domain import Assignment, FixBatch, Zone

_POLYGON, _CIRCLE = 0, 1


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One row per (fix, assignment active at the fix's time) of a batch.

    `boundary_distance(rows)` gives the exact distance in metres from those rows' fixes to
    their zone's boundary. It is computed on request, for the few rows an alert text needs:
    for every violating row it would cost more than the classification itself.
    """

    fix: Ids  # row in the batch
    assignment: Ids
    zone: Ids
    inclusion: NDArray[np.bool_]
    status: Codes
    boundary_distance: Callable[[Ids], Metres]


@dataclass(frozen=True, slots=True)
class _Planes:
    lon0: NDArray[np.float64]
    lat0: NDArray[np.float64]
    kx: NDArray[np.float64]

    @classmethod
    def of(cls, shapes: list[CompiledPolygon] | list[CompiledCircle]) -> _Planes:
        return cls(
            lon0=np.array([s.plane.origin_lon for s in shapes], dtype=np.float64),
            lat0=np.array([s.plane.origin_lat for s in shapes], dtype=np.float64),
            kx=np.array([s.plane.m_per_deg_lon for s in shapes], dtype=np.float64),
        )

    def project(
        self, row: Ids, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (lon - self.lon0[row]) * self.kx[row], (lat - self.lat0[row]) * M_PER_DEG


@dataclass(frozen=True, slots=True)
class ZoneIndex:
    """Immutable: build a new one when zones or assignments change and swap it in. A zone
    shared by many assignments (a county outline) is compiled once."""

    grid: PolygonGrid
    polygon_planes: _Planes
    circle_planes: _Planes
    circle_radius: NDArray[np.float64]
    schedules: Schedules
    # assignment table, sorted by subject
    subject: Ids
    assignment: Ids
    zone: Ids
    inclusion: NDArray[np.bool_]
    kind: NDArray[np.int8]
    row: Ids  # the zone's row among polygons or circles; schedule row = table row
    # first[s] .. first[s + 1] are subject s's table rows, when subject ids are dense enough
    # for a table; None: binary search.
    first: Ids | None

    problems: tuple[str, ...]  # zones and assignments left out, and why

    @classmethod
    def build(cls, zones: Iterable[Zone], assignments: Iterable[Assignment]) -> ZoneIndex:
        """Compile what is valid; a bad zone or schedule is left out (with its reason in
        `problems`) rather than stopping every other subject's monitoring."""
        problems: list[str] = []
        compiled: dict[int, CompiledShape] = {}
        for z in zones:
            try:
                compiled[z.id] = compile_shape(z.id, z.geometry)
            except ZoneError as exc:
                problems.append(f"zone {z.id} ({z.name}) left out: {exc}")
        usable = []
        for a in assignments:
            try:
                check_schedule(a.schedule)
            except ScheduleError as exc:
                problems.append(f"assignment {a.id} left out: {exc}")
            else:
                usable.append(a)
        polygons = [c for c in compiled.values() if isinstance(c, CompiledPolygon)]
        circles = [c for c in compiled.values() if isinstance(c, CompiledCircle)]
        where = {c.zone_id: (_POLYGON, i) for i, c in enumerate(polygons)}
        where |= {c.zone_id: (_CIRCLE, i) for i, c in enumerate(circles)}
        rows = sorted((a for a in usable if a.zone_id in where), key=lambda a: a.subject_id)
        subject_ids = np.array([a.subject_id for a in rows], dtype=np.int64)
        return cls(
            grid=build_grid([p.rings for p in polygons]),
            polygon_planes=_Planes.of(polygons),
            circle_planes=_Planes.of(circles),
            circle_radius=np.array([c.radius_m for c in circles], dtype=np.float64),
            schedules=compile_schedules([a.schedule for a in rows]),
            subject=subject_ids,
            assignment=np.array([a.id for a in rows], dtype=np.int64),
            zone=np.array([a.zone_id for a in rows], dtype=np.int64),
            inclusion=np.array([a.role is ZoneRole.INCLUSION for a in rows], dtype=np.bool_),
            kind=np.array([where[a.zone_id][0] for a in rows], dtype=np.int8),
            row=np.array([where[a.zone_id][1] for a in rows], dtype=np.int64),
            first=_first_rows(subject_ids),
            problems=tuple(problems),
        )

    def pairs(self, subject: Ids) -> tuple[Ids, Ids]:
        """(fix row, assignment-table row) for every assignment of every fix's subject."""
        if self.first is not None:
            s = np.clip(subject, 0, self.first.shape[0] - 2)
            lo, hi = self.first[s], self.first[s + 1]
        else:
            lo = np.searchsorted(self.subject, subject, side="left")
            hi = np.searchsorted(self.subject, subject, side="right")
        counts = hi - lo
        fix = np.repeat(np.arange(subject.shape[0], dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        offset = np.arange(fix.shape[0], dtype=np.int64) - np.repeat(starts, counts)
        return fix, np.repeat(lo, counts) + offset

    def starting(self, since: float, now: float) -> Ids:
        """Assignments whose schedule began to apply in (since, now]: off at `since`, on at
        `now` (a window shorter than that gap is missed)."""
        ptr = self.schedules.suspended_ptr
        rows = np.flatnonzero(~self.schedules.always | (ptr[1:] > ptr[:-1]))
        before = active(self.schedules, rows, np.full(rows.shape[0], since))
        after = active(self.schedules, rows, np.full(rows.shape[0], now))
        return self.assignment[rows[after & ~before]]

    def evaluate(self, batch: FixBatch) -> Evaluation:
        fix, arow = self.pairs(batch.subject)
        on = active(self.schedules, arow, batch.time[fix])
        fix, arow = fix[on], arow[on]
        kind, zrow = self.kind[arow], self.row[arow]
        lon, lat, acc = batch.lon[fix], batch.lat[fix], batch.accuracy[fix]
        status = np.empty(fix.shape[0], dtype=np.int8)

        poly = np.flatnonzero(kind == _POLYGON)
        x, y = self.polygon_planes.project(zrow[poly], lon[poly], lat[poly])
        status[poly] = evaluate_polygons(self.grid, zrow[poly], x, y, acc[poly])

        circ = np.flatnonzero(kind == _CIRCLE)
        planes = self.circle_planes
        status[circ] = kernel.circle_status(
            zrow[circ],
            lon[circ],
            lat[circ],
            acc[circ] + BOUNDARY_TOLERANCE_M,
            planes.lon0,
            planes.lat0,
            planes.kx,
            self.circle_radius,
            M_PER_DEG,
        )

        def boundary_distance(rows: Ids) -> Metres:
            out = np.empty(rows.shape[0])
            p = kind[rows] == _POLYGON
            r = rows[p]
            px, py = self.polygon_planes.project(zrow[r], lon[r], lat[r])
            out[p] = zone_edges_test(self.grid, zrow[r], px, py)[1]
            r = rows[~p]
            out[~p] = np.abs(self._circle_gap(zrow[r], lon[r], lat[r]))
            return out

        return Evaluation(
            fix=fix,
            assignment=self.assignment[arow],
            zone=self.zone[arow],
            inclusion=self.inclusion[arow],
            status=status,
            boundary_distance=boundary_distance,
        )

    def _circle_gap(
        self, row: Ids, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Distance from the circle's edge: negative inside."""
        cx, cy = self.circle_planes.project(row, lon, lat)
        return np.hypot(cx, cy) - self.circle_radius[row]


def _first_rows(subject: Ids) -> Ids | None:
    """Dense database ids: a table of first rows beats two binary searches per fix. The last
    entry stands for every id beyond the table: no rows."""
    top = int(subject[-1]) + 1 if subject.size else 0
    if top > 4 * subject.shape[0] + 100_000:
        return None
    return np.searchsorted(subject, np.arange(top + 2)).astype(np.int64)
