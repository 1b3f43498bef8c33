"""Zone rule: inclusion-zone exit, exclusion-zone entry, curfew, confirmed over fixes.

Pure: arrays and state in, findings and new state out. The caller keeps the new state only
after the findings are committed, so a failed write is retried with the same decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alerts.confirm import confirm
from domain import AlertKind, Finding, Text, ZoneStatus

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from alerts.policy import Policies
    from domain import FixBatch, Ids, RunStates
    from geofence import Evaluation


def zone_findings(
    batch: FixBatch,
    ev: Evaluation,
    state: RunStates,
    *,
    policies: Policies,
    curfews: Ids,
) -> tuple[list[Finding], RunStates]:
    """A violation is OUTSIDE an inclusion zone or INSIDE an exclusion zone; UNCERTAIN fixes
    prove nothing. `curfews`: sorted ids of the assignments that are curfews (alerted as
    such). Returns findings for confirmed violations and for violations that ended, and the
    new state of every assignment the batch touched decisively."""
    time = batch.time[ev.fix]
    subject = batch.subject[ev.fix]
    violating = np.where(
        ev.inclusion, ev.status == ZoneStatus.OUTSIDE, ev.status == ZoneStatus.INSIDE
    )
    t = confirm(
        ev.assignment,
        time,
        violating,
        ev.status != ZoneStatus.UNCERTAIN,
        state,
        min_run=policies.column(subject, "confirm_fixes").astype(np.int64),
        min_span_s=policies.column(subject, "confirm_s"),
    )
    rows = t.rows
    f = ev.fix[rows]
    findings = [
        Finding(
            kind=kind,
            subject_id=subject_id,
            time=fix_time,
            message=_message(kind, active=active, distance=distance),
            assignment_id=assignment,
            lon=lon,
            lat=lat,
            cleared=not active,
        )
        for kind, subject_id, fix_time, active, distance, assignment, lon, lat in zip(
            _kinds(ev.inclusion[rows], np.isin(ev.assignment[rows], curfews)),
            batch.subject[f].tolist(),
            batch.time[f].tolist(),
            t.active.tolist(),
            ev.boundary_distance(rows).tolist(),
            ev.assignment[rows].tolist(),
            batch.lon[f].tolist(),
            batch.lat[f].tolist(),
            strict=True,
        )
    ]
    return findings, t.state


def _kinds(inclusion: NDArray[np.bool_], curfew: NDArray[np.bool_]) -> list[AlertKind]:
    return [
        AlertKind.CURFEW if c else AlertKind.ZONE_EXIT if i else AlertKind.ZONE_ENTRY
        for i, c in zip(inclusion.tolist(), curfew.tolist(), strict=True)
    ]


def _message(kind: AlertKind, *, active: bool, distance: float) -> Text:
    if kind is AlertKind.ZONE_ENTRY:
        return Text("exclusion_entered" if active else "exclusion_left", {"m": distance})
    place = "curfew" if kind is AlertKind.CURFEW else "inclusion"
    if active:
        return Text(f"{place}_outside", {"m": distance})
    return Text(f"{place}_back")
