"""Frequent places: a subject's stays clustered into the places they keep going back to, with
how often and how long, and which of them were visited at night away from the residence.

Greedy and deterministic: the longest stays found places; each other stay, longest first,
joins the place whose founding stay is nearest, if within `radius_m` of its centre (else it
founds one); a place's centre is then the mean of its stays' centres weighted by length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

import numpy as np

from geofence import haversine

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo


# Stays this near are one place (a block of flats, a workplace): wider than a stay's radius,
# as indoor fixes place the same flat's stays tens of metres apart.
PLACE_RADIUS_M = 150.0


@dataclass(frozen=True, slots=True)
class Dwell:
    """A stay as the places see it."""

    starts_at: datetime
    ends_at: datetime
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Night:
    """The hours of the night in local time, as hours after midnight (a level's
    `night_starts_h` and `night_ends_h`): from 23 to 5 the next morning by default."""

    starts_h: float = 23.0
    ends_h: float = 5.0

    def around(self, t: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The night under way at `t`, else the last one over before it: (start, end)."""
        length = timedelta(hours=(self.ends_h - self.starts_h) % 24)
        day = t.astimezone(tz).date() + timedelta(days=1)
        while True:
            start = datetime.combine(day, time(0), tz) + timedelta(hours=self.starts_h)
            if start <= t:
                return start, start + length
            day -= timedelta(days=1)

    def overlaps(self, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
        """Whether [start, end] overlaps a night (any night it spans; a night of no hours
        none)."""
        length = timedelta(hours=(self.ends_h - self.starts_h) % 24)
        if not length:
            return False
        day = start.astimezone(tz).date() - timedelta(days=1)
        while day <= end.astimezone(tz).date():
            night_start = datetime.combine(day, time(0), tz) + timedelta(hours=self.starts_h)
            if start < night_start + length and end > night_start:
                return True
            day += timedelta(days=1)
        return False


@dataclass(frozen=True, slots=True)
class Place:
    lon: float
    lat: float
    visits: int
    hours: float  # dwelt there in all
    first: datetime
    last: datetime
    night_visits: int  # visits overlapping a night
    stays: tuple[int, ...]  # indices into the stays given


def places(dwells: Sequence[Dwell], *, radius_m: float, night: Night, tz: ZoneInfo) -> list[Place]:
    """The places of these stays, the most hours first."""
    length = np.array([(d.ends_at - d.starts_at).total_seconds() for d in dwells])
    lon = np.array([d.lon for d in dwells])
    lat = np.array([d.lat for d in dwells])
    members: list[list[int]] = []
    centres: list[tuple[float, float]] = []
    for i in sorted(range(len(dwells)), key=lambda k: (-length[k], k)):
        d = [haversine(x, y, float(lon[i]), float(lat[i])) for x, y in centres]
        if d and min(d) <= radius_m:
            members[d.index(min(d))].append(i)
            continue
        members.append([i])
        centres.append((float(lon[i]), float(lat[i])))
    out = []
    for rows in members:
        rows.sort()
        w = np.maximum(length[rows], 1.0)
        out.append(
            Place(
                lon=float(np.average(lon[rows], weights=w)),
                lat=float(np.average(lat[rows], weights=w)),
                visits=len(rows),
                hours=float(length[rows].sum() / 3600.0),
                first=min(dwells[k].starts_at for k in rows).astimezone(UTC),
                last=max(dwells[k].ends_at for k in rows).astimezone(UTC),
                night_visits=sum(
                    night.overlaps(dwells[k].starts_at, dwells[k].ends_at, tz) for k in rows
                ),
                stays=tuple(rows),
            )
        )
    return sorted(out, key=lambda p: (-p.hours, p.first))
