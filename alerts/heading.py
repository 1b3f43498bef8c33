"""Early warning of an exclusion zone: a subject heading for one (a school, a victim's home)
and predicted to reach it within their level's `zone_warn_s`. Pure: fixes, the zones'
evaluation and state in, findings and new state out.

Each fix of a subject with exclusion zones moves the subject's track (`alerts.tracks`). A
fix decisively outside an exclusion zone, whose track moves at 0.3 m/s or more, observes an
approach if carrying on at that velocity puts the subject decisively inside the zone within
the warning time: the fix's accuracy circle, widened by how far off the velocity may be
times the time ahead, all in it (as the zone rule asks of an entry);
otherwise, or standing still, it observes none: one passing at a distance misses the zone,
one standing still is heading nowhere. A fix without a known velocity, or not decisively
outside, proves neither. Confirmed over fixes as an entry is (by the subject's level), the
approach opens `approaching` with the predicted time and way, and clears by itself when the
subject turns away.

The prediction is judged by the zone index itself: points along the way, where it crosses a
circle around the zone within the warning time, evaluated as fixes at the time they would
be there (a zone that applies only at times is judged then).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from alerts.confirm import confirm
from alerts.tracks import M_PER_DEG, crossing, follow, no_tracks
from domain import (
    AlertKind,
    Finding,
    FixBatch,
    Positions,
    RunStates,
    Text,
    ZoneStatus,
    by_key_then_time,
)
from domain.runs import TIME

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from alerts.policy import Policies
    from domain import Ids
    from geofence import Evaluation, ZoneIndex

    Floats = NDArray[np.float64]

_MOVING_M_S = 0.3  # slower than this is not heading anywhere
_STEP_M = 20.0  # predicted points this far apart along the way at most...
_MAX_STEPS = 64  # ...unless the zone is large: then this many across its circle
_MARGIN = 1.01  # the zones' circles are measured in each zone's plane, the way in the fix's


def heading_findings(
    batch: FixBatch,
    ev: Evaluation,
    tracks: Positions,
    state: RunStates,
    *,
    index: ZoneIndex,
    policies: Policies,
) -> tuple[list[Finding], RunStates, Positions]:
    """Findings for confirmed approaches to exclusion zones and their end; the new state of
    each assignment observed and the tracks of the subjects watched."""
    warn_at = policies.column(batch.subject, "zone_warn_s")
    # every fix of these subjects moves their tracks, whether a zone of theirs applies now
    # or not: a track left hours behind would give the first fix it takes a false heading
    lo, hi = index.excluded.rows(batch.subject)
    mine = np.flatnonzero((hi > lo) & (warn_at > 0))
    if not mine.size:
        return [], RunStates.none(), no_tracks()
    key = batch.subject[mine]
    time, lon, lat, accuracy = (
        np.ascontiguousarray(a[mine]) for a in (batch.time, batch.lon, batch.lat, batch.accuracy)
    )
    velocity, ends, ended = follow(
        by_key_then_time(key, time), key, (tracks.key, tracks.fix), (time, lon, lat, accuracy)
    )
    v = np.full((batch.time.shape[0], 3), np.nan)
    v[mine] = velocity
    seen = ~np.isnan(ended[:, TIME])
    moved = Positions(key[ends[seen]], ended[seen])
    rows = np.flatnonzero(~ev.inclusion & (warn_at[ev.fix] > 0))
    heading, eta = _predict(batch, ev, rows, v, warn_at, index)
    kept = _telling(ev.assignment[rows], batch.time[ev.fix[rows]], heading, state)
    rows, heading, eta = rows[kept], heading[kept], eta[kept]
    f = ev.fix[rows]
    subject = batch.subject[f]
    t = confirm(
        ev.assignment[rows],
        batch.time[f],
        heading == 1,
        np.ones(rows.shape[0], np.bool_),
        state,
        min_run=policies.column(subject, "confirm_fixes").astype(np.int64),
        min_span_s=policies.column(subject, "confirm_s"),
    )
    speed = np.hypot(v[f, 0], v[f, 1])
    findings = []
    for r, on in zip(t.rows.tolist(), t.active.tolist(), strict=True):
        i = int(f[r])
        params: dict[str, str | float] = {"zone": index.zone_name(int(ev.zone[rows[r]]))}
        if on:
            params |= {"min": float(eta[r]) / 60, "m": float(eta[r] * speed[r])}
        findings.append(
            Finding(
                kind=AlertKind.APPROACHING,
                subject_id=int(batch.subject[i]),
                time=float(batch.time[i]),
                message=Text("zone_approaching" if on else "zone_not_approaching", params),
                assignment_id=int(ev.assignment[rows[r]]),
                lon=float(batch.lon[i]),
                lat=float(batch.lat[i]),
                cleared=not on,
            )
        )
    return findings, t.state, moved


def _telling(assignment: Ids, time: Floats, heading: NDArray[np.int8], state: RunStates) -> Ids:
    """The observations that can change a confirmation: heading there, and not heading
    there after being on the way (stored, or earlier in the batch). The others would leave
    an assignment as it was with no state at all: most of a batch, left out."""
    ones = heading == 1
    on = np.isin(assignment, state.key[state.active | state.run_active])
    if not ones.any():
        return np.flatnonzero((heading == 0) & on)
    keys, inverse = np.unique(assignment[ones], return_inverse=True)
    first = np.full(keys.shape[0], np.inf)
    np.minimum.at(first, inverse, time[ones])
    at = np.minimum(np.searchsorted(keys, assignment), keys.shape[0] - 1)
    later = (keys[at] == assignment) & (time > first[at])
    return np.flatnonzero(ones | ((heading == 0) & (on | later)))


def _predict(
    batch: FixBatch,
    ev: Evaluation,
    rows: Ids,
    velocity: Floats,
    warn_s: Floats,
    index: ZoneIndex,
) -> tuple[NDArray[np.int8], Floats]:
    """For each of the evaluation's `rows` (`velocity`: each fix's): heading for the zone
    within `warn_s` (each fix's) (1), not (0), cannot tell (-1); and in how many seconds
    it would be decisively inside."""
    fixes = (batch.lon, batch.lat, batch.accuracy)
    heading, c, enter, leave = _screen(
        rows, ev.fix, ev.status, ev.row, fixes, velocity, warn_s, index.bounds, ZoneStatus.OUTSIDE
    )
    f = ev.fix[rows[c]]
    v = velocity[f]
    radius = index.bounds[ev.row[rows[c]], 2]
    span = leave - enter
    steps = np.ceil(
        span * np.hypot(v[:, 0], v[:, 1]) / np.maximum(_STEP_M, 2 * radius / _MAX_STEPS)
    )
    count = steps.astype(np.int64) + 1  # both ends of the way in the circle included
    which = np.repeat(np.arange(c.shape[0]), count)
    first = np.repeat(np.cumsum(count) - count, count)
    tau = enter[which] + (span / np.maximum(steps, 1))[which] * (np.arange(which.shape[0]) - first)
    g, w = f[which], v[which]
    ahead = FixBatch.measured(
        batch.subject[g],
        batch.time[g] + tau,
        batch.lon[g] + w[:, 0] * tau / (np.cos(np.radians(batch.lat[g])) * M_PER_DEG),
        batch.lat[g] + w[:, 1] * tau / M_PER_DEG,
        # where it would be is as uncertain as its velocity, more so the farther ahead
        batch.accuracy[g] + w[:, 2] * tau,
    )
    pe = index.evaluate(ahead)
    wanted = ev.assignment[rows[c[which]]]
    hit = (pe.status == ZoneStatus.INSIDE) & (pe.assignment == wanted[pe.fix])
    first_in = np.full(c.shape[0], np.inf)
    np.minimum.at(first_in, which[pe.fix[hit]], tau[pe.fix[hit]])
    eta = np.full(rows.shape[0], np.inf)
    eta[c] = first_in
    heading[c] = first_in <= warn_s[f]
    return heading, eta


@nb.njit(cache=True, error_model="numpy")
def _screen(
    rows: Ids,
    fix: Ids,
    status: NDArray[np.int8],
    row: Ids,
    fixes: tuple[Floats, Floats, Floats],
    velocity: Floats,
    warn_s: Floats,
    bounds: Floats,
    outside: int,
) -> tuple[NDArray[np.int8], Ids, Floats, Floats]:
    """Each row's first verdict (-1: cannot tell, 0: not heading there), and the rows whose
    way crosses the circle around their zone before their warning time and before their
    doubt outgrows it (the candidates, by index into `rows`), with when it enters and
    leaves the circle (or that time, if sooner)."""
    lon, lat, accuracy = fixes
    n = rows.shape[0]
    heading = np.full(n, -1, np.int8)
    cand, enters, leaves, m = np.empty(n, np.int64), np.empty(n), np.empty(n), 0
    for i in range(n):
        r = rows[i]
        f = fix[r]
        vx, vy, doubt = velocity[f, 0], velocity[f, 1], velocity[f, 2]
        if status[r] != outside or math.isnan(vx):
            continue
        heading[i] = 0
        if vx * vx + vy * vy < _MOVING_M_S * _MOVING_M_S:
            continue
        z = row[r]
        radius = bounds[z, 2] * _MARGIN
        k = math.cos(math.radians(lat[f])) * M_PER_DEG
        px, py = (lon[f] - bounds[z, 0]) * k, (lat[f] - bounds[z, 1]) * M_PER_DEG
        enter, leave = crossing(px, py, vx, vy, radius, 0.0)
        enter = max(enter, 0.0)
        # after this the predicted accuracy circle is wider than the zone's circle
        limit = min(warn_s[f], (radius - accuracy[f]) / doubt)
        if leave < enter or enter > limit:
            continue
        cand[m], enters[m], leaves[m] = i, enter, min(leave, limit)
        m += 1
    return heading, cand[:m], enters[:m], leaves[:m]
