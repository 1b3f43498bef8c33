"""Rules at the edge of a window, judged from the newest position known, not the next fix
(which may be an hour away at a lenient level):

- a curfew begins: a subject away from home is alerted at the window start;
- a leave ends: a subject not back inside the district is overdue.

The finding carries the time and place of that newest fix: a fix from between it and now
that shows the subject where they should be clears it.

Either way the zone's confirmation starts afresh from that position, so the zone rule does
not alert a second time for the same absence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from domain import AlertKind, Finding, FixBatch, LastFix, RunState, Text, ZoneStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from domain import Ids, Leave
    from geofence import ZoneIndex


@dataclass(frozen=True, slots=True)
class _Judged:
    assignment: int
    subject: int
    fix: LastFix
    status: ZoneStatus


def _judge_newest(
    now: float, assignments: Ids, index: ZoneIndex, last_fix: Mapping[int, LastFix]
) -> tuple[list[_Judged], dict[int, RunState]]:
    """Each of `assignments` (active at `now`) against its subject's newest fix, and the
    fresh confirmation state that position gives it."""
    rows = np.flatnonzero(np.isin(index.assignment, assignments))
    state = {int(a): RunState() for a in index.assignment[rows].tolist()}
    subjects = [s for s in np.unique(index.subject[rows]).tolist() if s in last_fix]
    if not subjects:
        return [], state
    fixes = [last_fix[s] for s in subjects]
    n = len(fixes)
    batch = FixBatch.measured(
        np.array(subjects, dtype=np.int64),
        np.full(n, now),  # judged as of now, when the assignment applies
        np.array([f.lon for f in fixes]),
        np.array([f.lat for f in fixes]),
        np.array([f.accuracy for f in fixes]),
    )
    ev = index.evaluate(batch)
    judged = []
    for row in np.flatnonzero(np.isin(ev.assignment, assignments) & ev.inclusion).tolist():
        fix = fixes[int(ev.fix[row])]
        status = ZoneStatus(int(ev.status[row]))
        assignment = int(ev.assignment[row])
        judged.append(_Judged(assignment, int(batch.subject[ev.fix[row]]), fix, status))
        if status is ZoneStatus.UNCERTAIN:
            state[assignment] = RunState(last_time=fix.time)
        else:
            away = status is ZoneStatus.OUTSIDE
            state[assignment] = RunState(
                active=away, run=1, run_active=away, run_start=fix.time, last_time=fix.time
            )
    return judged, state


def curfew_start_findings(
    now: float, starting: Ids, index: ZoneIndex, last_fix: Mapping[int, LastFix]
) -> tuple[list[Finding], dict[int, RunState]]:
    """`starting`: curfew assignments whose window opened just now."""
    judged, state = _judge_newest(now, starting, index, last_fix)
    findings = [
        Finding(
            kind=AlertKind.CURFEW,
            subject_id=j.subject,
            time=j.fix.time,  # the position it is decided from
            message=(Text("curfew_not_home", {"min": (now - j.fix.time) / 60})),
            assignment_id=j.assignment,
            lon=j.fix.lon,
            lat=j.fix.lat,
        )
        for j in judged
        if j.status is ZoneStatus.OUTSIDE
    ]
    return findings, state


def leave_end_findings(
    now: float,
    ended: Iterable[Leave],
    *,
    districts: Ids,
    destinations: Mapping[int, int],
    index: ZoneIndex,
    last_fix: Mapping[int, LastFix],
) -> tuple[list[Finding], dict[int, RunState]]:
    """`ended`: approved leaves that ended just now; `districts`: the inclusion assignments
    that apply again; `destinations`: leave id -> its destination assignment (the overdue
    alert's key)."""
    leaves = {lv.subject_id: lv for lv in ended if lv.id in destinations}
    mine = index.assignment[
        np.isin(index.subject, list(leaves)) & np.isin(index.assignment, districts)
    ]
    judged, state = _judge_newest(now, mine, index, last_fix)
    overdue = {j.subject: j for j in judged if j.status is ZoneStatus.OUTSIDE}
    findings = [
        Finding(
            kind=AlertKind.LEAVE_OVERDUE,
            subject_id=s,
            time=j.fix.time,  # the position it is decided from
            message=(
                Text("leave_not_back", {"leave": leaves[s].id, "min": (now - j.fix.time) / 60})
            ),
            assignment_id=destinations[leaves[s].id],
            lon=j.fix.lon,
            lat=j.fix.lat,
        )
        for s, j in sorted(overdue.items())
    ]
    return findings, state
