"""The zone index the pipeline holds: compiled zones, schedules, who is assigned to what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import (
    Assignment,
    Codes,
    FixBatch,
    Ids,
    Metres,
    Spans,
    Zone,
    ZoneRole,
    by_key_then_time,
)
from geofence import kernel
from geofence.compile import (
    CompiledCircle,
    CompiledPolygon,
    CompiledShape,
    ZoneError,
    compile_shape,
)
from geofence.grid import (
    CH,
    CW,
    KX,
    LAT0,
    LON0,
    M_PER_DEG,
    NX,
    NY,
    X0,
    Y0,
    PolygonGrid,
    build_grid,
    merge_grids,
)
from geofence.kernel import C_LAT, C_LON, C_RADIUS
from geofence.schedules import (
    ScheduleError,
    Schedules,
    active,
    check_schedule,
    compile_schedules,
)
from geofence.sphere import beyond_circle, fix_terms

if TYPE_CHECKING:
    from collections.abc import Iterable

    from domain import Schedule


_POLYGON, _CIRCLE = 0, 1
_UNJUDGED = ScheduleError("not checked yet")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One row per (fix, assignment active at the fix's time) of a batch.

    `boundary_distance(rows)` gives the exact distance in metres from those rows' fixes to
    their zone's boundary. It is computed on request, for the few rows an alert text needs:
    for every violating row it would cost more than the classification itself.
    """

    fix: Ids  # row in the batch
    row: Ids  # the assignment's row in the index (as in `ZoneIndex.bounds`)
    assignment: Ids
    zone: Ids
    inclusion: NDArray[np.bool_]
    status: Codes
    boundary_distance: Callable[[Ids], Metres]


def _bounds(
    kind: NDArray[np.int8], row: Ids, grid: PolygonGrid, circles: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(lon, lat, radius in metres) of a circle around each zone of these kinds and rows:
    where a zone is not, no closer look is needed."""
    circle = kind == _CIRCLE
    c = circles[row[circle]]
    z, n = grid.zf[row[~circle]], grid.zi[row[~circle]]
    w, h = n[:, NX] * z[:, CW], n[:, NY] * z[:, CH]
    out = np.empty((row.shape[0], 3))
    out[circle] = c[:, [C_LON, C_LAT, C_RADIUS]]
    out[~circle, 0] = z[:, LON0] + (z[:, X0] + w / 2) / z[:, KX]
    out[~circle, 1] = z[:, LAT0] + (z[:, Y0] + h / 2) / M_PER_DEG
    out[~circle, 2] = np.hypot(w, h) / 2
    return out


def _circles(shapes: list[CompiledCircle]) -> NDArray[np.float64]:
    out = np.zeros((len(shapes), 4))
    out[:, kernel.C_LON] = [c.plane.origin_lon for c in shapes]
    out[:, kernel.C_LAT] = [c.plane.origin_lat for c in shapes]
    out[:, kernel.C_COSLAT] = np.cos(np.radians(out[:, kernel.C_LAT]))
    out[:, kernel.C_RADIUS] = [c.radius_m for c in shapes]
    return out


@dataclass(frozen=True, slots=True)
class _Shapes:
    """The zones an index compiled, and where each went, kept to build the next index."""

    zones: dict[int, Zone]  # as compiled (and as left out: with a problem)
    where: dict[int, tuple[int, int]]  # zone id -> (_POLYGON or _CIRCLE, row)
    problems: dict[int, str]
    grid: PolygonGrid
    circles: NDArray[np.float64]

    @classmethod
    def none(cls) -> _Shapes:
        return cls({}, {}, {}, build_grid([], []), _circles([]))

    @classmethod
    def of(cls, zones: Iterable[Zone], before: _Shapes) -> _Shapes:
        kept: list[Zone] = []
        fresh: dict[int, CompiledShape] = {}
        known: dict[int, Zone] = {}
        problems: dict[int, str] = {}
        for z in zones:
            known[z.id] = z
            if before.zones.get(z.id) == z:
                if z.id in before.problems:
                    problems[z.id] = before.problems[z.id]
                else:
                    kept.append(z)
                continue
            try:
                fresh[z.id] = compile_shape(z.id, z.geometry)
            except ZoneError as exc:
                problems[z.id] = f"zone {z.id} ({z.name}) left out: {exc}"
        old_poly = [z.id for z in kept if before.where[z.id][0] == _POLYGON]
        old_circle = [z.id for z in kept if before.where[z.id][0] == _CIRCLE]
        polygons = [c for c in fresh.values() if isinstance(c, CompiledPolygon)]
        circles = [c for c in fresh.values() if isinstance(c, CompiledCircle)]
        added = build_grid(
            [p.rings for p in polygons],
            [(p.plane.origin_lon, p.plane.origin_lat) for p in polygons],
        )
        old_rows = np.array([before.where[i][1] for i in old_poly], dtype=np.int64)
        grid = (
            merge_grids([(before.grid, old_rows), (added, np.arange(len(polygons)))])
            if old_poly
            else added
        )
        circle_rows = np.array([before.where[i][1] for i in old_circle], dtype=np.int64)
        poly_ids = old_poly + [p.zone_id for p in polygons]
        circle_ids = old_circle + [c.zone_id for c in circles]
        where = {z: (_POLYGON, i) for i, z in enumerate(poly_ids)}
        where |= {z: (_CIRCLE, i) for i, z in enumerate(circle_ids)}
        return cls(
            zones=known,
            where=where,
            problems=problems,
            grid=grid,
            circles=np.concatenate([before.circles[circle_rows], _circles(circles)]),
        )


@dataclass(frozen=True, slots=True)
class ZoneIndex:
    """Immutable: build a new one when zones or assignments change and swap it in. A zone
    shared by many assignments (a county outline) is compiled once."""

    shapes: _Shapes
    schedules: Schedules
    # assignment table, sorted by subject
    subject: Ids
    assignment: Ids
    zone: Ids
    inclusion: NDArray[np.bool_]
    kind: NDArray[np.int8]
    row: Ids  # the zone's row among polygons or circles; schedule row = table row
    plain: NDArray[np.bool_]  # applies always, nothing suspended: no schedule to check
    spans: Spans  # each subject's rows in the table
    excluded: Spans  # the subjects with an exclusion zone (one row each)
    bounds: NDArray[np.float64]  # per row: lon, lat, radius of a circle around its zone

    problems: tuple[str, ...]  # zones and assignments left out, and why

    @classmethod
    def build(
        cls,
        zones: Iterable[Zone],
        assignments: Iterable[Assignment],
        previous: ZoneIndex | None = None,
    ) -> ZoneIndex:
        """Compile what is valid; a bad zone or schedule is left out (with its reason in
        `problems`) rather than stopping every other subject's monitoring. Zones equal to
        those `previous` compiled are taken from it as they are."""
        shapes = _Shapes.of(zones, previous.shapes if previous else _Shapes.none())
        problems = list(shapes.problems.values())
        usable = []
        judged: dict[Schedule, ScheduleError | None] = {}  # most share a few schedules
        for a in assignments:
            error = judged.get(a.schedule, _UNJUDGED)
            if error is _UNJUDGED:
                try:
                    check_schedule(a.schedule)
                    error = None
                except ScheduleError as exc:
                    error = exc
                judged[a.schedule] = error
            if error is not None:
                problems.append(f"assignment {a.id} left out: {error}")
            else:
                usable.append(a)
        where = shapes.where
        rows = sorted((a for a in usable if a.zone_id in where), key=lambda a: a.subject_id)
        subject_ids = np.array([a.subject_id for a in rows], dtype=np.int64)
        schedules = compile_schedules([a.schedule for a in rows])
        ptr = schedules.suspended_ptr
        kind = np.array([where[a.zone_id][0] for a in rows], dtype=np.int8)
        row = np.array([where[a.zone_id][1] for a in rows], dtype=np.int64)
        return cls(
            shapes=shapes,
            schedules=schedules,
            subject=subject_ids,
            assignment=np.array([a.id for a in rows], dtype=np.int64),
            zone=np.array([a.zone_id for a in rows], dtype=np.int64),
            inclusion=np.array([a.role is ZoneRole.INCLUSION for a in rows], dtype=np.bool_),
            kind=kind,
            row=row,
            plain=schedules.always & (ptr[1:] == ptr[:-1]),
            spans=Spans.of(subject_ids),
            excluded=Spans.of(np.unique(subject_ids[[a.role is ZoneRole.EXCLUSION for a in rows]])),
            bounds=_bounds(kind, row, shapes.grid, shapes.circles),
            problems=tuple(problems),
        )

    @property
    def grid(self) -> PolygonGrid:
        return self.shapes.grid

    @property
    def circles(self) -> NDArray[np.float64]:
        """kernel.C_LON, C_LAT, C_COSLAT, C_RADIUS of each circle zone."""
        return self.shapes.circles

    def zone_name(self, zone_id: int) -> str:
        return self.shapes.zones[zone_id].name

    def _rows(self, subject: Ids) -> tuple[Ids, Ids]:
        """Each fix's subject's assignment-table rows: lo[f] .. hi[f]."""
        return self.spans.rows(subject)

    def starting(self, since: float, now: float) -> Ids:
        """Assignments whose schedule began to apply in (since, now]: off at `since`, on at
        `now` (a window shorter than that gap is missed)."""
        rows = np.flatnonzero(~self.plain)
        before = active(self.schedules, rows, np.full(rows.shape[0], since))
        after = active(self.schedules, rows, np.full(rows.shape[0], now))
        return self.assignment[rows[after & ~before]]

    def evaluate(self, batch: FixBatch) -> Evaluation:
        terms = fix_terms(batch.lat)
        # contiguous (a copy only of a strided view): one compiled specialisation, the one
        # warm_up() compiles
        lon, lat, accuracy = (
            np.ascontiguousarray(a) for a in (batch.lon, batch.lat, batch.accuracy)
        )
        fix, arow, status = kernel.classify(
            # a subject's fixes one after another: its zones' cells are then in the cache
            # for all but the first (12% of a batch's time, measured)
            by_key_then_time(batch.subject, batch.time),
            *self._rows(batch.subject),
            self.kind,
            self.row,
            lon,
            lat,
            accuracy,
            terms,
            self.grid,
            self.circles,
        )
        timed = np.flatnonzero(~self.plain[arow])
        if timed.size:
            on = np.ones(fix.shape[0], dtype=np.bool_)
            on[timed] = active(self.schedules, arow[timed], batch.time[fix[timed]])
            fix, arow, status = fix[on], arow[on], status[on]

        def boundary_distance(rows: Ids) -> Metres:
            f, a = fix[rows], arow[rows]
            return kernel.boundary_distance(
                self.kind[a],
                self.row[a],
                batch.lon[f],
                batch.lat[f],
                terms[f],
                self.grid,
                self.circles,
            )

        return Evaluation(
            fix=fix,
            row=arow,
            assignment=self.assignment[arow],
            zone=self.zone[arow],
            inclusion=self.inclusion[arow],
            status=status,
            boundary_distance=boundary_distance,
        )


def warm_up() -> None:
    """Compile the kernels now (or load them from numba's cache): a first index and batch
    after a fresh install otherwise wait ~10 s for it."""
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]]]}
    circle = {"type": "Circle", "center": [0.02, 0.0], "radius_m": 100.0}
    zones = [Zone(1, "square", square), Zone(2, "circle", circle)]
    assignments = [Assignment(i, 1, i, ZoneRole.INCLUSION) for i in (1, 2)]
    index = ZoneIndex.build(zones, assignments)
    index = ZoneIndex.build([*zones, Zone(3, "again", square)], assignments, previous=index)
    one = np.ones(1)
    ev = index.evaluate(FixBatch.measured(np.ones(1, np.int64), one, one * 0.005, one * 0.002, one))
    ev.boundary_distance(np.arange(ev.fix.shape[0]))
    beyond_circle(one, one, 0.0, 0.0, 1.0)
