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

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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
        return bool(np.hypot(x - self.x, y - self.y) - accuracy <= self.policy.radius_m)

    def left(self, x: float, y: float, accuracy: float) -> bool:
        """Away beyond twice the accuracy: a poor fix is off by more than it claims now and
        then (the cell's about one in twenty), by twice that hardly ever."""
        return bool(np.hypot(x - self.x, y - self.y) - 2 * accuracy > self.policy.radius_m)

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


def stays(
    time: EpochSeconds, x: Metres, y: Metres, accuracy: Metres, policy: StayPolicy
) -> list[Stay]:
    """One subject's stays, from their fixes sorted by time (positions in metres in a
    plane of the caller's: a subject's day spans a few km)."""
    out: list[Stay] = []
    candidate: _Candidate | None = None
    away: list[int] = []

    def close() -> None:
        if candidate is not None and (found := candidate.stay()) is not None:
            out.append(found)

    for i in range(time.shape[0]):
        t, px, py, acc = float(time[i]), float(x[i]), float(y[i]), float(accuracy[i])
        if candidate is None or t - candidate.end > policy.max_gap_s:
            close()
            candidate, away = _Candidate(t, px, py, acc, policy), []
        elif candidate.agrees(px, py, acc):
            candidate.take(t, px, py, acc)
            away = []
        elif candidate.left(px, py, acc):
            away.append(i)
            if len(away) >= policy.away_fixes:
                close()
                first, *rest = away
                candidate = _Candidate(
                    float(time[first]),
                    float(x[first]),
                    float(y[first]),
                    float(accuracy[first]),
                    policy,
                )
                away = []
                for j in rest:
                    if candidate.agrees(float(x[j]), float(y[j]), float(accuracy[j])):
                        candidate.take(float(time[j]), float(x[j]), float(y[j]), float(accuracy[j]))
                    else:
                        candidate = _Candidate(
                            float(time[j]), float(x[j]), float(y[j]), float(accuracy[j]), policy
                        )
    close()
    return out
