"""Zone rules: confirm a violation over consecutive fixes, open one alert per excursion.

Pure: arrays and state in, alerts and new state out. The caller keeps the new state only
after the alerts are committed, so a failed write is retried with the same decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import AlertKind, NewAlert, Severity, ZoneStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import FixBatch
    from geofence import Evaluation


@dataclass(frozen=True, slots=True)
class ZoneState:
    """Per assignment: trailing run of violating fixes, newest decisive fix time, alert open."""

    run: int = 0
    last_time: float = float("-inf")
    alert_open: bool = False


@dataclass(frozen=True, slots=True)
class _Runs:
    """Decisive, in-order pair rows sorted by (assignment, time) and their run lengths."""

    rows: NDArray[np.int64]
    key: NDArray[np.int64]  # index into the unique assignments
    violating: NDArray[np.bool_]
    run: NDArray[np.int64]


def _runs(
    key: NDArray[np.int64],
    time: NDArray[np.float64],
    violating: NDArray[np.bool_],
    decisive: NDArray[np.bool_],
    carried: NDArray[np.int64],
) -> _Runs:
    rows = np.flatnonzero(decisive)
    order = np.lexsort((time[rows], key[rows]))
    rows = rows[order]
    k, v = key[rows], violating[rows]
    n = rows.shape[0]
    idx = np.arange(n, dtype=np.int64)
    new_key = np.ones(n, dtype=np.bool_)
    new_key[1:] = k[1:] != k[:-1]
    new_run = new_key.copy()
    new_run[1:] |= v[1:] != v[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))
    key_start = np.maximum.accumulate(np.where(new_key, idx, 0))
    run = idx - run_start + 1
    # A run that starts a key's rows continues the run carried in from earlier batches.
    continues = (run_start == key_start) & v
    run = run + np.where(continues, carried[k], 0)
    return _Runs(rows=rows, key=k, violating=v, run=run)


def zone_alerts(
    batch: FixBatch,
    ev: Evaluation,
    state: Mapping[int, ZoneState],
    *,
    confirm_fixes: int,
) -> tuple[list[NewAlert], dict[int, ZoneState]]:
    """Alerts for assignments whose violation is confirmed by `confirm_fixes` decisive fixes.

    A violation is OUTSIDE an inclusion zone or INSIDE an exclusion zone. UNCERTAIN fixes and
    fixes not newer than the assignment's last decisive fix change nothing. Returns the new
    state of every assignment the batch touched decisively.
    """
    assignments, key = np.unique(ev.assignment, return_inverse=True)
    key = key.astype(np.int64)
    prior = [state.get(int(a), ZoneState()) for a in assignments]
    carried = np.array([p.run for p in prior], dtype=np.int64)
    last_time = np.array([p.last_time for p in prior], dtype=np.float64)
    was_open = np.array([p.alert_open for p in prior], dtype=np.bool_)

    time = batch.time[ev.fix]
    violating = np.where(
        ev.inclusion, ev.status == ZoneStatus.OUTSIDE, ev.status == ZoneStatus.INSIDE
    )
    decisive = (ev.status != ZoneStatus.UNCERTAIN) & (time > last_time[key])
    r = _runs(key, time, violating, decisive, carried)

    confirmed = r.violating & (r.run >= confirm_fixes) & ~was_open[r.key]
    hit_keys, first = np.unique(r.key[confirmed], return_index=True)
    alert_rows = r.rows[np.flatnonzero(confirmed)[first]]
    distances = ev.boundary_distance(alert_rows)
    alerts = [
        _alert(batch, ev, row, distance)
        for row, distance in zip(alert_rows.tolist(), distances.tolist(), strict=True)
    ]

    opened = np.zeros(assignments.shape[0], dtype=np.bool_)
    opened[hit_keys] = True
    touched, last = np.unique(r.key[::-1], return_index=True)
    last = r.key.shape[0] - 1 - last
    new_state = {
        int(assignments[k]): ZoneState(
            run=int(r.run[i]) if r.violating[i] else 0,
            last_time=float(time[r.rows[i]]),
            alert_open=bool(was_open[k] or opened[k]),
        )
        for k, i in zip(touched.tolist(), last.tolist(), strict=True)
    }
    return alerts, new_state


def _alert(batch: FixBatch, ev: Evaluation, row: int, distance: float) -> NewAlert:
    f = int(ev.fix[row])
    if ev.inclusion[row]:
        kind, severity = AlertKind.ZONE_EXIT, Severity.HIGH
        message = f"left the inclusion zone: {distance:.0f} m outside"
    else:
        kind, severity = AlertKind.ZONE_ENTRY, Severity.CRITICAL
        message = f"entered the exclusion zone: {distance:.0f} m inside"
    return NewAlert(
        kind=kind,
        severity=severity,
        subject_id=int(batch.subject[f]),
        assignment_id=int(ev.assignment[row]),
        fix_time=float(batch.time[f]),
        lon=float(batch.lon[f]),
        lat=float(batch.lat[f]),
        message=message,
    )
