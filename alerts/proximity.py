"""Prohibition orders (禁止令): a subject near a protected person, or two subjects an order
keeps apart meeting. Pure: fixes and state in, findings and new state out.

Each pair an order names is watched from both sides: every fix of either party observes the
pair against the newest earlier fix of the other party (from this batch or remembered) if
that is at most the subject's `pair_window_s` or phone interval older (whichever is longer):
a staler position of either side proves nothing. The other party may have moved since its
fix as fast as it moved just before: a pair nearer than the order's distance with both
accuracies and that way added observes them near; one farther even with all of them taken
off observes them apart; anything between proves neither. Near a protected person is
confirmed over fixes as a zone entry is (by the subject's level); contact between two
subjects once they were near for the order's `for_s`.

Early warning: a subject moving toward a protected person at 0.3 m/s or more, whose motion
and theirs (`alerts.tracks`) bring it on straight lines within the order's distance less
both accuracies, and less how far off both velocities may be times the time ahead, in at
most the order's `warn_s`, observes an approach; any other pair of
fresh, measured fixes observes none (a subject passing by misses the circle; one standing
still is not heading anywhere, even as the protected person walks up). Confirmed like
nearness, it opens `approaching` with the predicted time, and clears by itself when the
subject turns away.

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
from alerts.tracks import COLUMNS, EAST, M_PER_DEG, NORTH, SPEED, V_ERROR, crossing, move
from domain import (
    AlertKind,
    Finding,
    Ids,
    Party,
    Positions,
    RunStates,
    Spans,
    Text,
    party_key,
)
from domain.runs import ACCURACY, LAT, LON, TIME
from geofence import haversine

if TYPE_CHECKING:
    from collections.abc import Iterable

    from alerts.policy import Policies
    from domain import EpochSeconds, FixBatch, Prohibition
    from domain.texts import Value

Flags = NDArray[np.bool_]
Floats = NDArray[np.float64]

_NEVER = np.iinfo(np.int64).max  # a run length no run reaches: contact confirms by time
_CLOSING_M_S = 0.3  # slower than this toward a protected person is not heading for them


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
    warn_s: Floats  # 0: no warning (and none for two subjects)
    code: tuple[str, ...]  # how alerts name each pair's protected person
    member: Spans
    row: Ids
    # (pair, side: 0 subject, 1 other): the party's first pair. Every pair of a party moves
    # its track through the same fixes: the first one's is the party's.
    own: NDArray[np.bool_]

    @classmethod
    def build(cls, prohibitions: Iterable[Prohibition]) -> Pairs:
        rows = sorted(prohibitions, key=lambda p: p.id)
        protected = np.array([p.other is Party.PROTECTED for p in rows], dtype=np.bool_)
        subject = np.array([p.subject_id for p in rows], dtype=np.int64)
        other = party_key(protected, np.array([p.other_id for p in rows], dtype=np.int64))
        member = np.concatenate([subject, other])
        row = np.tile(np.arange(len(rows), dtype=np.int64), 2)
        by_member = np.argsort(member, kind="stable")
        first = by_member[np.unique(member[by_member], return_index=True)[1]]
        own = np.zeros((len(rows), 2), np.bool_)
        own[first % max(len(rows), 1), first // max(len(rows), 1)] = True
        return cls(
            id=np.array([p.id for p in rows], dtype=np.int64),
            subject=subject,
            other=other,
            protected=protected,
            distance=np.array([p.distance_m for p in rows], dtype=np.float64),
            for_s=np.array([p.for_s for p in rows], dtype=np.float64),
            warn_s=np.where(protected, [p.warn_s for p in rows], 0.0).astype(np.float64),
            code=tuple(p.other_code or f"P-{p.other_id}" for p in rows),
            member=Spans.of(member[by_member]),
            row=row[by_member],
            own=own,
        )

    def subjects_of(self, party: Ids) -> set[int]:
        """Every subject in a pair with one of these parties (themselves included): the
        subjects whose rule state a batch of these parties' fixes must hold."""
        _, row = self.of(party)
        both = np.concatenate([self.subject[row], self.other[row]])
        return set(both[both > 0].tolist())

    def of(self, party: Ids) -> tuple[Ids, Ids]:
        """(index into `party`, pair row) for every pair each party is in."""
        return _expand(*self.member.rows(party), self.row)


@nb.njit(cache=True)
def _expand(lo: Ids, hi: Ids, row: Ids) -> tuple[Ids, Ids]:
    """(i, row[j]) for every i and each j in lo[i] .. hi[i]."""
    n = 0
    for i in range(lo.shape[0]):
        n += hi[i] - lo[i]
    which, rows = np.empty(n, np.int64), np.empty(n, np.int64)
    k = 0
    for i in range(lo.shape[0]):
        for j in range(lo[i], hi[i]):
            which[k], rows[k] = i, row[j]
            k += 1
    return which, rows


_SHORT = 32  # a pair's rows sorted by insertion up to this many (a batch holds a few)


@nb.njit(cache=True)
def _join(
    member: tuple[Ids, int, Ids], key: Ids, time: EpochSeconds, row: Ids, subject: Ids
) -> tuple[Ids, Ids, NDArray[np.int8], EpochSeconds]:
    """The (fix, pair) rows: each fix `i` with each pair row[j] it is in (j: the rows of its
    key among the `member` keys: sorted keys, and `Spans`' table of them where there is
    one, its first key), its side in the pair (0: the subject, 1: the other) and its time,
    sorted by pair, then time, ties in fix order (as `by_key_then_time(pair, time[fix])`
    would order them)."""
    members, low, first = member
    lo, hi = np.empty(key.shape[0], np.int64), np.empty(key.shape[0], np.int64)
    n = 0
    for i in range(key.shape[0]):
        if first.shape[0]:
            at = min(max(key[i] - (low - 1), 0), first.shape[0] - 2)
            lo[i], hi[i] = first[at], first[at + 1]
        else:
            lo[i] = np.searchsorted(members, key[i], side="left")
            hi[i] = np.searchsorted(members, key[i], side="right")
        n += hi[i] - lo[i]
    fix, pair, side = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int8)
    at = np.empty(n)
    start = np.zeros(subject.shape[0] + 1, np.int64)
    r = 0
    for i in range(lo.shape[0]):
        for j in range(lo[i], hi[i]):
            p = row[j]
            fix[r], pair[r], side[r], at[r] = i, p, 0 if key[i] == subject[p] else 1, time[i]
            start[p + 1] += 1
            r += 1
    for p in range(subject.shape[0]):
        start[p + 1] += start[p]
    order, fill = np.empty(n, np.int64), start[:-1].copy()
    for r in range(n):
        order[fill[pair[r]]] = r
        fill[pair[r]] += 1
    for p in range(subject.shape[0]):
        a, b = start[p], start[p + 1]
        if b - a > _SHORT:  # a device sending floods: no quadratic sort
            span = order[a:b].copy()
            order[a:b] = span[np.argsort(at[span], kind="mergesort")]
            continue
        for x in range(a + 1, b):
            v, t = order[x], at[order[x]]
            y = x - 1
            while y >= a and at[order[y]] > t:
                order[y + 1] = order[y]
                y -= 1
            order[y + 1] = v
    # laid out in that order: the passes over the rows read and write them in sequence
    return fix[order], pair[order], side[order], at[order]


@dataclass(frozen=True, slots=True)
class ProximityState:
    """Each pair's runs, of nearness and of approach (by prohibition id)."""

    runs: RunStates = field(default_factory=RunStates.none)
    approach: RunStates = field(default_factory=RunStates.none)

    def updated(self, newer: ProximityState) -> ProximityState:
        return ProximityState(self.runs.updated(newer.runs), self.approach.updated(newer.approach))


def proximity_findings(
    subjects: FixBatch,
    protected: FixBatch,
    state: ProximityState,
    tracks: Positions,
    *,
    pairs: Pairs,
    policies: Policies,
) -> tuple[list[Finding], ProximityState, Positions]:
    """`subjects`: the batch's fixes of subjects; `protected`: of protected persons' phones
    (their `subject` column holding the protected person's id); `tracks`: by party key.
    Returns findings for confirmed nearness and approach and their end, the new state, and
    the tracks of the parties that moved."""
    key = np.concatenate([subjects.subject, party_key(True, protected.subject)])
    time = np.concatenate([subjects.time, protected.time])
    fixes = (
        time,
        np.concatenate([subjects.lon, protected.lon]),
        np.concatenate([subjects.lat, protected.lat]),
        np.concatenate([subjects.accuracy, protected.accuracy]),
    )
    member = pairs.member
    table = np.zeros(0, np.int64) if member.first is None else member.first
    fix, pair, side, at = _join(
        (member.key, member.low, table), key, time, pairs.row, pairs.subject
    )
    observed = _observe(
        pair,
        side,
        fix,
        fixes,
        (tracks.key, tracks.fix),
        (pairs.subject, pairs.other, pairs.own),
        # a phone's position holds until its next fix: two parties reporting every five
        # minutes, half an interval apart, are never within two minutes of each other
        np.maximum(
            policies.column(pairs.subject, "pair_window_s"),
            policies.column(pairs.subject, "phone_interval_s"),
        ),
        pairs.distance,
        pairs.warn_s,
    )
    near, decisive, (ended, moved), where, heading, eta = observed
    ids = pairs.id[pair]
    min_run = policies.column(pairs.subject, "confirm_fixes").astype(np.int64)
    min_span = policies.column(pairs.subject, "confirm_s")
    t = confirm(
        ids,
        at,
        near,
        decisive,
        state.runs,
        # two subjects: a meeting is confirmed by its time alone
        min_run=np.where(pairs.protected, min_run, _NEVER)[pair],
        min_span_s=np.where(pairs.protected, min_span, pairs.for_s)[pair],
        order=np.arange(pair.shape[0]),
    )
    a = confirm(
        ids,
        at,
        heading == 1,
        heading >= 0,
        state.approach,
        min_run=min_run[pair],
        min_span_s=min_span[pair],
        order=np.flatnonzero(heading >= 0),  # only those rows count: the others prove nothing
    )
    by_party = np.argsort(ended)
    findings = _findings(t.rows, t.active, pair, at, where, pairs)
    findings += _warnings(a.rows, a.active, pair, at, eta, where, pairs)
    return (
        findings,
        ProximityState(t.state, a.state),
        Positions(ended[by_party], moved[by_party]),
    )


def _findings(
    rows: Ids,
    active: Flags,
    pair: Ids,
    time: EpochSeconds,
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
            sides: list[tuple[int, int, dict[str, Value]]] = [
                (a, 0, {"r": limit, "person": pairs.code[p]})
            ]
        else:
            kind = AlertKind.PROHIBITED_CONTACT
            words = "contact_near" if on else "contact_over"
            m = float(haversine(*where[r].tolist()))
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


def _warnings(
    rows: Ids,
    active: Flags,
    pair: Ids,
    time: EpochSeconds,
    eta: Floats,
    where: Floats,
    pairs: Pairs,
) -> list[Finding]:
    """The approach to a protected person begun (with the predicted minutes) or given up."""
    out = []
    for r, on in zip(rows.tolist(), active.tolist(), strict=True):
        p = int(pair[r])
        params: dict[str, str | float] = {"person": pairs.code[p], "r": float(pairs.distance[p])}
        if on:
            params["min"] = float(eta[r]) / 60
        out.append(
            Finding(
                kind=AlertKind.APPROACHING,
                subject_id=int(pairs.subject[p]),
                time=float(time[r]),
                message=Text(
                    "protected_approaching" if on else "protected_not_approaching", params
                ),
                lon=float(where[r, 0]),
                lat=float(where[r, 1]),
                cleared=not on,
                prohibition_id=int(pairs.id[p]),
            )
        )
    return out


@nb.njit(cache=True, inline="always")
def _remember(tr: Floats, q: int, party: int, known: Ids, rows: Floats) -> None:
    """Row q of `tr`: the party's remembered track (`known`: sorted keys), else NaN."""
    at = np.searchsorted(known, party)
    if at < known.shape[0] and known[at] == party:
        tr[q, :] = rows[at]
    else:
        tr[q, :] = np.nan


@nb.njit(cache=True, error_model="numpy")
def _observe(
    pair: Ids,
    side: NDArray[np.int8],
    fix: Ids,
    fixes: tuple[EpochSeconds, Floats, Floats, Floats],
    remembered: tuple[Ids, Floats],
    parties: tuple[Ids, Ids, Flags],
    window: EpochSeconds,
    distance: Floats,
    warn_s: EpochSeconds,
) -> tuple[Flags, Flags, tuple[Ids, Floats], Floats, NDArray[np.int8], Floats]:
    """Each (fix, pair) row, in (pair, time) order, against the other side's newest earlier
    fix (each pair's two `parties`, subject and other, start from their `remembered`
    tracks: sorted keys, their tracks): near, decisive, the track of each party with a fix
    in the batch at its end (party keys, tracks: taken from the pair `parties`' third
    column marks as the party's own), where each side was (subject lon, lat, other lon,
    lat: the other's newest earlier fix, NaN if none), and for pairs with a warning time
    whether the subject is heading for the protected person (1, 0; -1: cannot tell) and in
    how many seconds it would be within the distance."""
    time, lon, lat, accuracy = fixes
    known, rows = remembered
    n = pair.shape[0]
    near, decisive = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    where = np.empty((n, 4))
    ends, tracks, m_ends = np.empty(n, np.int64), np.empty((n, COLUMNS)), 0
    heading, eta = np.full(n, -1, np.int8), np.full(n, np.inf)
    tr, had = np.empty((2, COLUMNS)), np.zeros(2, np.bool_)
    i = 0
    while i < n:
        p = pair[i]
        _remember(tr, 0, parties[0][p], known, rows)
        _remember(tr, 1, parties[1][p], known, rows)
        had[:] = False
        while i < n and pair[i] == p:
            r = i
            i += 1
            f, s, o = fix[r], side[r], 1 - side[r]
            t, had[s] = time[f], True
            where[r, 2 * s], where[r, 2 * s + 1] = lon[f], lat[f]
            where[r, 2 * o], where[r, 2 * o + 1] = tr[o, LON], tr[o, LAT]
            dt = t - tr[o, TIME]
            if not math.isnan(tr[o, TIME]) and 0.0 <= dt <= window[p]:
                slack = accuracy[f] + tr[o, ACCURACY] + tr[o, SPEED] * dt
                # the way along the meridian is never longer than the great circle: most
                # pairs are apart by that alone
                if abs(lat[f] - tr[o, LAT]) * M_PER_DEG - slack > distance[p]:
                    decisive[r] = True
                else:
                    d = haversine(lon[f], lat[f], tr[o, LON], tr[o, LAT])
                    near[r] = d + slack <= distance[p]
                    decisive[r] = near[r] or d - slack > distance[p]
            k = math.cos(math.radians(lat[f])) * M_PER_DEG
            move(tr, s, t, lon[f], lat[f], accuracy[f], k)
            sure = distance[p] - accuracy[f] - tr[o, ACCURACY]
            if (
                warn_s[p] > 0
                and decisive[r]
                and not near[r]
                and sure > 0
                and not math.isnan(tr[s, EAST])
                and not math.isnan(tr[o, EAST])
            ):
                # both now (the older fix carried on at its velocity); the subject relative
                # to the protected person; the subject's own velocity: one standing still
                # is heading nowhere, whoever walks up to it
                ox = (tr[o, LON] - lon[f]) * k + tr[o, EAST] * dt
                oy = (tr[o, LAT] - lat[f]) * M_PER_DEG + tr[o, NORTH] * dt
                sign = 1.0 if s == 1 else -1.0
                px, py = sign * ox, sign * oy
                wx, wy = sign * (tr[o, EAST] - tr[s, EAST]), sign * (tr[o, NORTH] - tr[s, NORTH])
                gap = max(math.sqrt(px * px + py * py), 1e-9)
                closing = -(px * tr[0, EAST] + py * tr[0, NORTH]) / gap  # row 0: the subject
                doubt = tr[0, V_ERROR] + tr[1, V_ERROR]
                within, _ = crossing(px, py, wx, wy, sure - tr[o, V_ERROR] * dt, doubt)
                eta[r] = within if within > 0.0 else np.inf
                heading[r] = 1 if closing >= _CLOSING_M_S and eta[r] <= warn_s[p] else 0
        for q in range(2):
            if had[q] and parties[2][p, q]:
                ends[m_ends] = parties[0][p] if q == 0 else parties[1][p]
                tracks[m_ends, :] = tr[q]
                m_ends += 1
    return near, decisive, (ends[:m_ends], tracks[:m_ends]), where, heading, eta
