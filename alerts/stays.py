"""Stay points: where a subject dwelt, from their fixes in time order (accuracy-aware).

A stay is a dwell of at least `min_s` within `radius_m` of a place. Indoors a phone's
fixes jump (Wi-Fi tens of metres, the cell hundreds), reflections throw a GNSS fix 100 m
while it claims metres, and devices fall silent; so:

- a fix *agrees* with a stay when its accuracy circle reaches within `radius_m` of the
  stay's centre; only fixes at least as accurate as `radius_m` move the centre (weighted
  by 1 / accuracy), the rest only say the subject is still there;
- a stay ends when `away_fixes` fixes in a row are decisively away (beyond `radius_m` of
  the centre by twice their accuracy; a fix neither agreeing nor away says nothing): one
  thrown fix does not end it, and is not part of it; a stay placed by fewer than two
  fixes as accurate as `radius_m` is none;
- a silence longer than `max_gap_s` ends it at the last fix before (nothing says where
  the subject was meanwhile).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

import store
from geofence import Plane

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import EpochSeconds, Metres


@dataclass(frozen=True, slots=True)
class StayPolicy:
    radius_m: float = 100.0
    min_s: float = 600.0
    away_fixes: int = 2
    max_gap_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class Stay:
    start: float  # epoch seconds of its first and last agreeing fix
    end: float
    x: float  # centre, in the caller's plane (metres)
    y: float
    radius_m: float  # the farthest of its centre-defining fixes from the centre
    fixes: int  # fixes that agreed with it


class _Candidate:
    """A place the subject may be dwelling at, from the fixes so far."""

    def __init__(self, t: float, x: float, y: float, accuracy: float, policy: StayPolicy) -> None:
        self.start = self.end = t
        self.weight = 0.0
        self.sx = self.sy = 0.0
        self.x, self.y = x, y
        self.members: list[tuple[float, float]] = []  # the fixes that placed the centre
        self.count = 0
        self.placed = False  # by a fix at least as accurate as the radius
        self.policy = policy
        self.take(t, x, y, accuracy)

    def agrees(self, x: float, y: float, accuracy: float) -> bool:
        return math.hypot(x - self.x, y - self.y) - accuracy <= self.policy.radius_m

    def left(self, x: float, y: float, accuracy: float) -> bool:
        """Away beyond twice the accuracy: a poor fix is off by more than it claims now and
        then (the cell's about one in twenty), by twice that hardly ever."""
        return math.hypot(x - self.x, y - self.y) - 2 * accuracy > self.policy.radius_m

    def take(self, t: float, x: float, y: float, accuracy: float) -> None:
        self.end, self.count = t, self.count + 1
        good = accuracy <= self.policy.radius_m
        if good and not self.placed:  # the first good fix: the poor one placed it till now
            self.weight, self.sx, self.sy, self.members, self.placed = 0.0, 0.0, 0.0, [], True
        if good or not self.members:
            w = 1.0 / max(accuracy, 1.0)
            self.weight += w
            self.sx, self.sy = self.sx + w * x, self.sy + w * y
            self.x, self.y = self.sx / self.weight, self.sy / self.weight
            self.members.append((x, y))

    def stay(self) -> Stay | None:
        # two fixes that place it at least: one and a poor fix agreeing prove little
        if self.end - self.start < self.policy.min_s or len(self.members) < 2:
            return None
        xy = np.array(self.members)
        radius = float(np.max(np.hypot(xy[:, 0] - self.x, xy[:, 1] - self.y)))
        return Stay(self.start, self.end, self.x, self.y, radius, self.count)


@dataclass(frozen=True, slots=True)
class Scan:
    """What a subject's fixes so far say: the stays later fixes ended, the stay the last
    fixes are part of (once it is long enough), and where a later scan must start again to
    give the same answer over more fixes (the first fix of the place the subject may be
    dwelling at now: each place starts afresh, owing nothing to the fixes before it)."""

    closed: list[Stay]
    current: Stay | None
    resume: int


def scan(time: EpochSeconds, x: Metres, y: Metres, accuracy: Metres, policy: StayPolicy) -> Scan:
    """One subject's stays, from their fixes sorted by time (positions in metres in a
    plane of the caller's: a subject's day spans a few km)."""
    out: list[Stay] = []
    candidate: _Candidate | None = None
    begun = 0  # the candidate's first fix
    away: list[int] = []
    i = 0
    while i < time.shape[0]:
        t, px, py, acc = float(time[i]), float(x[i]), float(y[i]), float(accuracy[i])
        if candidate is None or t - candidate.end > policy.max_gap_s:
            if candidate is not None and (found := candidate.stay()) is not None:
                out.append(found)
            candidate, begun, away = _Candidate(t, px, py, acc, policy), i, []
        elif candidate.agrees(px, py, acc):
            candidate.take(t, px, py, acc)
            away = []
        elif candidate.left(px, py, acc):
            away.append(i)
            if len(away) >= policy.away_fixes:
                if (found := candidate.stay()) is not None:
                    out.append(found)
                candidate, i = None, away[0]  # afresh from the first fix away
                continue
        i += 1
    return Scan(out, None if candidate is None else candidate.stay(), begun)


def stays(
    time: EpochSeconds, x: Metres, y: Metres, accuracy: Metres, policy: StayPolicy
) -> list[Stay]:
    """Every stay in the fixes, the last one included however they end."""
    found = scan(time, x, y, accuracy, policy)
    return found.closed if found.current is None else [*found.closed, found.current]


def _row(stay: Stay, plane: Plane, *, current: bool) -> store.stays.StayRow:
    lon, lat = plane.unproject(stay.x, stay.y)
    return store.stays.StayRow(
        starts_at=datetime.fromtimestamp(stay.start, UTC),
        ends_at=datetime.fromtimestamp(stay.end, UTC),
        lon=lon,
        lat=lat,
        radius_m=stay.radius_m,
        fixes=stay.fixes,
        current=current,
    )


async def refresh(conn: AsyncConnection[Any], *, policy: StayPolicy, limit: int) -> int:
    """The job: for up to `limit` subjects with fixes not looked at, find their stays again
    from where nothing before can change, one transaction each (a subject another process
    is doing is skipped). Returns how many subjects were done."""
    done = 0
    for waiting in await store.stays.pending(conn, limit=limit):
        async with conn.transaction():
            if not await store.stays.take(conn, subject_id=waiting.subject_id):
                continue
            since = await store.stays.restart_at(
                conn, subject_id=waiting.subject_id, since=waiting.since
            )
            track = await store.stays.track(conn, subject_id=waiting.subject_id, since=since)
            rows: list[store.stays.StayRow] = []
            resume_at = None
            if track.time.shape[0]:
                # the plane's scale from a whole degree of latitude: the same for every
                # scan of the subject, so one starting later measures as the first did
                plane = Plane(round(float(track.lon[0])), round(float(track.lat[0])))
                x, y = plane.project(track.lon, track.lat)
                found = await asyncio.to_thread(scan, track.time, x, y, track.accuracy, policy)
                rows = [_row(s, plane, current=False) for s in found.closed]
                if found.current is not None:
                    rows.append(_row(found.current, plane, current=True))
                resume_at = datetime.fromtimestamp(float(track.time[found.resume]), UTC)
            await store.stays.replace(
                conn, subject_id=waiting.subject_id, since=since, stays=rows, resume_at=resume_at
            )
            await store.stays.done(conn, looked_at=waiting)
            done += 1
    return done
