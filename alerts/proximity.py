"""Prohibition orders (禁止令): a subject near a protected person, or two subjects an order
keeps apart meeting. Pure: fixes and state in, findings and new state out.

Each pair an order names is watched from both sides: every fix of either party observes the
pair against the newest earlier fix of the other party (from this batch or remembered) if
that is at most the subject's `pair_window_s` older: a stale position of either side proves
nothing. The other party may have moved since its fix as fast as it moved just before: a
pair nearer than the order's distance with both accuracies and that way added observes them
near; one farther even with all of them taken off observes them apart; anything between
proves neither. Near a protected person is confirmed over fixes as a zone entry is (by the
subject's level); contact between two subjects once they were near for the order's `for_s`.

The join is the order's table, not a search in space: an order names a subject's few
counterparts, so each fix meets its pairs by one lookup, whoever else is about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numba as nb
import numpy as np
from numpy.typing import NDArray

from alerts.confirm import confirm
from domain import (
    AlertKind,
    Finding,
    Ids,
    Party,
    Positions,
    RunStates,
    Spans,
    Text,
    by_key_then_time,
)
from domain.runs import ACCURACY, LAT, LON, SPEED, TIME
from geofence import haversine

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alerts.policy import Policies
    from domain import EpochSeconds, FixBatch, Prohibition

Flags = NDArray[np.bool_]
Floats = NDArray[np.float64]

_NEVER = np.iinfo(np.int64).max  # a run length no run reaches: contact confirms by time
_COLUMNS = 5  # a party's newest fix: TIME, LON, LAT, ACCURACY, SPEED


def party_key(protected: Flags, ids: Ids) -> Ids:
    """One key space for both kinds of party: a subject's id, a protected person's negated."""
    return np.where(protected, -ids, ids)


@dataclass(frozen=True, slots=True)
class Pairs:
    """The prohibitions in columns; `member`/`row`: each party's key beside the row of a
    pair it is in, sorted by key (a party is in few pairs: they are found by lookup)."""

    id: Ids
    subject: Ids
    other: Ids  # party key of the other side
    protected: Flags
    distance: Floats
    for_s: Floats
    member: Spans
    row: Ids

    @classmethod
    def build(cls, prohibitions: Iterable[Prohibition]) -> Pairs:
        rows = sorted(prohibitions, key=lambda p: p.id)
        protected = np.array([p.other is Party.PROTECTED for p in rows], dtype=np.bool_)
        subject = np.array([p.subject_id for p in rows], dtype=np.int64)
        other = party_key(protected, np.array([p.other_id for p in rows], dtype=np.int64))
        member = np.concatenate([subject, other])
        row = np.tile(np.arange(len(rows), dtype=np.int64), 2)
        by_member = np.argsort(member, kind="stable")
        return cls(
            id=np.array([p.id for p in rows], dtype=np.int64),
            subject=subject,
            other=other,
            protected=protected,
            distance=np.array([p.distance_m for p in rows], dtype=np.float64),
            for_s=np.array([p.for_s for p in rows], dtype=np.float64),
            member=Spans.of(member[by_member]),
            row=row[by_member],
        )

    def of(self, party: Ids) -> tuple[Ids, Ids]:
        """(index into `party`, pair row) for every pair each party is in."""
        lo, hi = self.member.rows(party)
        count = hi - lo
        which = np.repeat(np.arange(party.shape[0], dtype=np.int64), count)
        first = np.cumsum(count) - count
        at = np.arange(which.shape[0], dtype=np.int64) - np.repeat(first, count)
        return which, self.row[np.repeat(lo, count) + at]


@dataclass(frozen=True, slots=True)
class ProximityState:
    """Each pair's run (by prohibition id) and each party's newest fix with its speed (by
    party key)."""

    runs: RunStates = field(default_factory=RunStates.none)
    tracks: Positions = field(
        default_factory=lambda: Positions(np.zeros(0, np.int64), np.zeros((0, _COLUMNS)))
    )

    def updated(self, newer: ProximityState) -> ProximityState:
        return ProximityState(self.runs.updated(newer.runs), self.tracks.newer(newer.tracks))


def proximity_findings(
    subjects: FixBatch,
    protected: FixBatch,
    state: ProximityState,
    *,
    pairs: Pairs,
    policies: Policies,
) -> tuple[list[Finding], ProximityState]:
    """`subjects`: the batch's fixes of subjects; `protected`: of protected persons' phones
    (their `subject` column holding the protected person's id). Returns findings for
    confirmed nearness and its end, and the new state."""
    key = np.concatenate([subjects.subject, -protected.subject])
    time = np.concatenate([subjects.time, protected.time])
    fixes = (
        time,
        np.concatenate([subjects.lon, protected.lon]),
        np.concatenate([subjects.lat, protected.lat]),
        np.concatenate([subjects.accuracy, protected.accuracy]),
    )
    fix, pair = pairs.of(key)
    side = (key[fix] != pairs.subject[pair]).astype(np.int8)  # 0: the subject, 1: the other
    order = by_key_then_time(pair, time[fix])
    subject = pairs.subject[pair]
    observed = _observe(
        order,
        pair,
        side,
        fix,
        fixes,
        (state.tracks.at(pairs.subject), state.tracks.at(pairs.other)),
        policies.column(pairs.subject, "pair_window_s"),
        pairs.distance,
    )
    near, decisive, apart, speed, where = observed
    contact = ~pairs.protected[pair]
    t = confirm(
        pairs.id[pair],
        time[fix],
        near,
        decisive,
        state.runs,
        min_run=np.where(
            contact, _NEVER, policies.column(subject, "confirm_fixes").astype(np.int64)
        ),
        min_span_s=np.where(contact, pairs.for_s[pair], policies.column(subject, "confirm_s")),
        order=order,
    )
    moved = np.column_stack([*(c[fix] for c in fixes), speed])
    tracks = Positions.newest(key[fix], moved)
    findings = _findings(t.rows, t.active, pair, time[fix], apart, where, pairs)
    return findings, ProximityState(t.state, tracks)


def _findings(
    rows: Ids,
    active: Flags,
    pair: Ids,
    time: EpochSeconds,
    apart: Floats,
    where: Floats,
    pairs: Pairs,
) -> list[Finding]:
    """A protected person's pair: one finding, for its subject (never where the protected
    person is); two subjects': one for each, at their own positions."""
    out = []
    for r, on in zip(rows.tolist(), active.tolist(), strict=True):
        p = int(pair[r])
        a, b, limit = int(pairs.subject[p]), int(pairs.other[p]), float(pairs.distance[p])
        if pairs.protected[p]:
            kind = AlertKind.PROTECTED_PERSON_PROXIMITY
            words = "protected_near" if on else "protected_away"
            sides = [(a, 0, {"r": limit, "person": -b})]
        else:
            kind = AlertKind.PROHIBITED_CONTACT
            words = "contact_near" if on else "contact_over"
            m = float(apart[r])
            sides = [
                (a, 0, {"r": limit, "m": m, "other": b}),
                (b, 1, {"r": limit, "m": m, "other": a}),
            ]
        out += [
            Finding(
                kind=kind,
                subject_id=subject_id,
                time=float(time[r]),
                message=Text(words, params),
                lon=float(where[r, 2 * s]),
                lat=float(where[r, 2 * s + 1]),
                cleared=not on,
                prohibition_id=int(pairs.id[p]),
            )
            for subject_id, s, params in sides
        ]
    return out


@nb.njit(cache=True, error_model="numpy")
def _observe(
    order: Ids,
    pair: Ids,
    side: NDArray[np.int8],
    fix: Ids,
    fixes: tuple[EpochSeconds, Floats, Floats, Floats],
    remembered: tuple[Floats, Floats],
    window: EpochSeconds,
    distance: Floats,
) -> tuple[Flags, Flags, Floats, Floats, Floats]:
    """Each (fix, pair) row in (pair, time) `order` against the other side's newest earlier
    fix: near, decisive, how far apart, the fix's own speed, and where each side was
    (subject lon, lat, other lon, lat)."""
    time, lon, lat, accuracy = fixes
    first, second = remembered
    n = order.shape[0]
    near, decisive = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    apart, speed, where = np.zeros(n), np.zeros(n), np.full((n, 4), np.nan)
    i = 0
    while i < n:
        p = pair[order[i]]
        track = [
            (first[p, TIME], first[p, LON], first[p, LAT], first[p, ACCURACY], first[p, SPEED]),
            (
                second[p, TIME],
                second[p, LON],
                second[p, LAT],
                second[p, ACCURACY],
                second[p, SPEED],
            ),
        ]
        while i < n and pair[order[i]] == p:
            r = order[i]
            i += 1
            f, s = fix[r], side[r]
            t = time[f]
            own, other = track[s], track[1 - s]
            v = own[SPEED] if t <= own[TIME] else 0.0
            if not math.isnan(own[TIME]) and t > own[TIME]:
                moved = haversine(own[LON], own[LAT], lon[f], lat[f])
                v = moved / max(t - own[TIME], 1.0)
            speed[r] = v
            here = (t, lon[f], lat[f], accuracy[f], v)
            where[r, 2 * s], where[r, 2 * s + 1] = lon[f], lat[f]
            dt = t - other[TIME]
            if not math.isnan(other[TIME]) and 0.0 <= dt <= window[p]:
                d = haversine(lon[f], lat[f], other[LON], other[LAT])
                slack = accuracy[f] + other[ACCURACY] + other[SPEED] * dt
                near[r] = d + slack <= distance[p]
                decisive[r] = near[r] or d - slack > distance[p]
                apart[r] = d
                where[r, 2 - 2 * s], where[r, 3 - 2 * s] = other[LON], other[LAT]
            if math.isnan(own[TIME]) or t > own[TIME]:
                track[s] = here
    return near, decisive, apart, speed, where
