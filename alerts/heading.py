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

from typing import TYPE_CHECKING

import numpy as np

from alerts.confirm import confirm
from alerts.tracks import M_PER_DEG, follow, no_tracks
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
    rows = np.flatnonzero(~ev.inclusion & (warn_at[ev.fix] > 0))
    if not rows.size:
        return [], RunStates.none(), no_tracks()
    watched = np.unique(batch.subject[ev.fix[rows]])
    mine = np.flatnonzero(np.isin(batch.subject, watched))
    key = batch.subject[mine]
    time, lon, lat, accuracy = (
        np.ascontiguousarray(a[mine]) for a in (batch.time, batch.lon, batch.lat, batch.accuracy)
    )
    velocity, ends, ended = follow(
        by_key_then_time(key, time), key, tracks.at(key), (time, lon, lat, accuracy)
    )
    v = np.full((batch.time.shape[0], 3), np.nan)
    v[mine] = velocity
    f = ev.fix[rows]
    heading, eta = _predict(batch, ev, rows, v[f], warn_at[f], index)
    subject = batch.subject[f]
    t = confirm(
        ev.assignment[rows],
        batch.time[f],
        heading == 1,
        heading >= 0,
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
    seen = ~np.isnan(ended[:, TIME])
    return findings, t.state, Positions(key[ends[seen]], ended[seen])


def _predict(
    batch: FixBatch,
    ev: Evaluation,
    rows: Ids,
    velocity: Floats,
    warn_s: Floats,
    index: ZoneIndex,
) -> tuple[NDArray[np.int8], Floats]:
    """For each of the evaluation's `rows` (with its fix's velocity): heading for the zone
    within `warn_s` (1), not (0), cannot tell (-1); and in how many seconds it would be
    decisively inside."""
    f = ev.fix[rows]
    known = (ev.status[rows] == ZoneStatus.OUTSIDE) & ~np.isnan(velocity[:, 0])
    heading = np.where(known, 0, -1).astype(np.int8)
    eta = np.full(rows.shape[0], np.inf)
    speed = np.hypot(velocity[:, 0], velocity[:, 1])
    c = np.flatnonzero(known & (speed >= _MOVING_M_S))
    lon, lat, radius = index.bounds(ev.row[rows[c]])
    k = np.cos(np.radians(batch.lat[f[c]])) * M_PER_DEG
    px, py = (batch.lon[f[c]] - lon) * k, (batch.lat[f[c]] - lat) * M_PER_DEG
    enter, leave = _crossing(px, py, velocity[c, 0], velocity[c, 1], radius * _MARGIN)
    soon = (enter <= warn_s[c]) & (leave >= enter)
    c, enter, leave, radius, k = c[soon], enter[soon], leave[soon], radius[soon], k[soon]
    leave = np.minimum(leave, warn_s[c])
    span = leave - enter
    steps = np.ceil(span * speed[c] / np.maximum(_STEP_M, 2 * radius / _MAX_STEPS))
    count = steps.astype(np.int64) + 1  # both ends of the way in the circle included
    which = np.repeat(np.arange(c.shape[0]), count)
    first = np.repeat(np.cumsum(count) - count, count)
    tau = enter[which] + (span / np.maximum(steps, 1))[which] * (np.arange(which.shape[0]) - first)
    g = f[c[which]]
    ahead = FixBatch.measured(
        batch.subject[g],
        batch.time[g] + tau,
        batch.lon[g] + velocity[c[which], 0] * tau / k[which],
        batch.lat[g] + velocity[c[which], 1] * tau / M_PER_DEG,
        # where it would be is as uncertain as its velocity, more so the farther ahead
        batch.accuracy[g] + velocity[c[which], 2] * tau,
    )
    pe = index.evaluate(ahead)
    wanted = ev.assignment[rows[c[which]]]
    hit = (pe.status == ZoneStatus.INSIDE) & (pe.assignment == wanted[pe.fix])
    first_in = np.full(c.shape[0], np.inf)
    np.minimum.at(first_in, which[pe.fix[hit]], tau[pe.fix[hit]])
    eta[c] = first_in
    heading[c] = first_in <= warn_s[c]
    return heading, eta


def _crossing(
    px: Floats, py: Floats, wx: Floats, wy: Floats, radius: Floats
) -> tuple[Floats, Floats]:
    """When a point at p moving at w (relative to a circle's centre, w not zero) is within
    `radius` from and to, from now on (enter > leave: never)."""
    a = wx * wx + wy * wy
    b = 2.0 * (px * wx + py * wy)
    disc = b * b - 4.0 * a * (px * px + py * py - radius * radius)
    root = np.sqrt(np.maximum(disc, 0.0))
    enter = np.where(disc >= 0, np.maximum((-b - root) / (2.0 * a), 0.0), np.inf)
    leave = np.where(disc >= 0, (-b + root) / (2.0 * a), -np.inf)
    return enter, leave
