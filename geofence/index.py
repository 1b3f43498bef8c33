"""The zone index the pipeline holds: compiled zones plus who is assigned to which."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import Codes, Ids, Metres, ZoneRole
from geofence.compile import CompiledZone, compile_zone
from geofence.evaluate import evaluate_zone

if TYPE_CHECKING:
    from collections.abc import Iterable

    from domain import Assignment, FixBatch, Zone


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One row per (fix, assignment) pair of a batch."""

    fix: Ids  # row in the batch
    assignment: Ids
    zone: Ids
    inclusion: NDArray[np.bool_]
    status: Codes
    distance: Metres


@dataclass(frozen=True, slots=True)
class ZoneIndex:
    """Immutable: build a new one when zones or assignments change and swap it in."""

    zones: dict[int, CompiledZone]
    subject: Ids  # assignment table, sorted by subject
    assignment: Ids
    zone: Ids
    inclusion: NDArray[np.bool_]

    @classmethod
    def build(cls, zones: Iterable[Zone], assignments: Iterable[Assignment]) -> ZoneIndex:
        compiled = {z.id: compile_zone(z) for z in zones}
        rows = sorted((a for a in assignments if a.zone_id in compiled), key=lambda a: a.subject_id)
        return cls(
            zones=compiled,
            subject=np.array([a.subject_id for a in rows], dtype=np.int64),
            assignment=np.array([a.id for a in rows], dtype=np.int64),
            zone=np.array([a.zone_id for a in rows], dtype=np.int64),
            inclusion=np.array([a.role is ZoneRole.INCLUSION for a in rows], dtype=np.bool_),
        )

    def pairs(self, subject: Ids) -> tuple[Ids, Ids]:
        """(fix row, assignment-table row) for every assignment of every fix's subject."""
        lo = np.searchsorted(self.subject, subject, side="left")
        hi = np.searchsorted(self.subject, subject, side="right")
        counts = hi - lo
        fix = np.repeat(np.arange(subject.shape[0], dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        offset = np.arange(fix.shape[0], dtype=np.int64) - np.repeat(first, counts)
        return fix, np.repeat(lo, counts) + offset

    def evaluate(self, batch: FixBatch) -> Evaluation:
        fix, row = self.pairs(batch.subject)
        zone = self.zone[row]
        status = np.empty(fix.shape[0], dtype=np.int8)
        distance = np.empty(fix.shape[0], dtype=np.float64)
        for zone_id in np.unique(zone):
            sel = np.flatnonzero(zone == zone_id)
            f = fix[sel]
            status[sel], distance[sel] = evaluate_zone(
                self.zones[int(zone_id)], batch.lon[f], batch.lat[f], batch.accuracy[f]
            )
        return Evaluation(
            fix=fix,
            assignment=self.assignment[row],
            zone=zone,
            inclusion=self.inclusion[row],
            status=status,
            distance=distance,
        )
