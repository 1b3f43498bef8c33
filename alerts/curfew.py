"""Curfew at its start: a subject already away from home when the window opens is alerted at
the window start, from the newest position known, not at the next fix (which may be an hour
away at a lenient level). Every weekly window starts a fresh confirmation run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from domain import AlertKind, Finding, FixBatch, FixSource, RunState, ZoneStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Ids, LastFix
    from geofence import ZoneIndex


def curfew_start_findings(
    now: float, starting: Ids, index: ZoneIndex, last_fix: Mapping[int, LastFix]
) -> tuple[list[Finding], dict[int, RunState]]:
    """`starting`: curfew assignments whose window opened just now. Returns findings for
    subjects outside their home zone and the fresh state of every starting assignment."""
    rows = np.flatnonzero(np.isin(index.assignment, starting))
    state = {int(a): RunState() for a in index.assignment[rows].tolist()}
    subjects = [s for s in np.unique(index.subject[rows]).tolist() if s in last_fix]
    if not subjects:
        return [], state
    fixes = [last_fix[s] for s in subjects]
    n = len(fixes)
    batch = FixBatch(
        subject=np.array(subjects, dtype=np.int64),
        device=np.full(n, -1, dtype=np.int64),
        time=np.full(n, now),  # judged as of now, when the window applies
        lon=np.array([f.lon for f in fixes]),
        lat=np.array([f.lat for f in fixes]),
        accuracy=np.array([f.accuracy for f in fixes]),
        source=[FixSource.GNSS] * n,
        battery=np.full(n, -1, dtype=np.int16),
        seq=np.full(n, -1, dtype=np.int64),
        received=np.full(n, now),
    )
    ev = index.evaluate(batch)
    mine = np.flatnonzero(np.isin(ev.assignment, starting) & ev.inclusion)
    findings = []
    for row in mine.tolist():
        fix = fixes[int(ev.fix[row])]
        status = ZoneStatus(int(ev.status[row]))
        if status is ZoneStatus.UNCERTAIN:
            state[int(ev.assignment[row])] = RunState(last_time=fix.time)
            continue
        away = status is ZoneStatus.OUTSIDE
        state[int(ev.assignment[row])] = RunState(
            active=away, run=1, run_active=away, run_start=fix.time, last_time=fix.time
        )
        if away:
            age_min = (now - fix.time) / 60
            findings.append(
                Finding(
                    kind=AlertKind.CURFEW,
                    subject_id=int(batch.subject[ev.fix[row]]),
                    time=now,
                    message=f"not home when the curfew began (newest fix {age_min:.0f} min old)",
                    assignment_id=int(ev.assignment[row]),
                    lon=fix.lon,
                    lat=fix.lat,
                )
            )
    return findings, state
