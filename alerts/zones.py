"""Zone rule: inclusion-zone exit, exclusion-zone entry, curfew, confirmed over fixes.

Pure: arrays and state in, findings and new state out. The caller keeps the new state only
after the findings are committed, so a failed write is retried with the same decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alerts.confirm import confirm
from domain import AlertKind, Finding, ZoneStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alerts.policy import Policies
    from domain import FixBatch, Ids, RunState
    from geofence import Evaluation


def zone_findings(
    batch: FixBatch,
    ev: Evaluation,
    state: Mapping[int, RunState],
    *,
    policies: Policies,
    curfews: Ids,
) -> tuple[list[Finding], dict[int, RunState]]:
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
    distances = ev.boundary_distance(t.rows)
    findings = [
        _finding(batch, ev, row, active=active, distance=d, curfews=curfews)
        for row, active, d in zip(
            t.rows.tolist(), t.active.tolist(), distances.tolist(), strict=True
        )
    ]
    return findings, t.state


def _finding(
    batch: FixBatch, ev: Evaluation, row: int, *, active: bool, distance: float, curfews: Ids
) -> Finding:
    f = int(ev.fix[row])
    assignment = int(ev.assignment[row])
    if not ev.inclusion[row]:
        kind = AlertKind.ZONE_ENTRY
        message = (
            f"entered the exclusion zone: {distance:.0f} m inside"
            if active
            else f"left the exclusion zone: {distance:.0f} m outside"
        )
    else:
        i = np.searchsorted(curfews, assignment)
        curfew = i < curfews.shape[0] and curfews[i] == assignment
        kind = AlertKind.CURFEW if curfew else AlertKind.ZONE_EXIT
        place = "home zone during curfew" if curfew else "inclusion zone"
        message = (
            f"outside the {place}: {distance:.0f} m from its boundary"
            if active
            else f"back inside the {place}"
        )
    return Finding(
        kind=kind,
        subject_id=int(batch.subject[f]),
        time=float(batch.time[f]),
        message=message,
        assignment_id=assignment,
        lon=float(batch.lon[f]),
        lat=float(batch.lat[f]),
        cleared=not active,
    )
