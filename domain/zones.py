"""Zones, and which subject must stay inside (or out of) which zone, and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any


class ZoneRole(StrEnum):
    INCLUSION = "inclusion"  # must stay inside: the district or county of residence
    EXCLUSION = "exclusion"  # must stay out: a victim's home, a school


@dataclass(frozen=True, slots=True)
class Zone:
    """A named area. `geometry` is a GeoJSON Polygon or MultiPolygon in WGS-84, or
    {"type": "Circle", "center": [lon, lat], "radius_m": r}, or
    {"type": "Corridor", "coordinates": [[lon, lat], ...], "width_m": w} (an approved route)."""

    id: int
    name: str
    geometry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """Local-time window on the given weekdays (0 = Monday). An `end` not after `start`
    runs past midnight into the next day: a 22:00-06:00 curfew."""

    days: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class OneOffWindow:
    """A single period, as for a leave (请假); both ends carry a UTC offset."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    """When an assignment applies. No windows at all: always. `suspended`: periods it does
    not apply even so (the district while the subject is on an approved leave); derived from
    leaves when loaded, never stored with the assignment."""

    timezone: str = "Asia/Shanghai"
    weekly: tuple[WeeklyWindow, ...] = ()
    once: tuple[OneOffWindow, ...] = ()
    suspended: tuple[OneOffWindow, ...] = ()

    @property
    def always(self) -> bool:
        """No windows: applies at all times (apart from `suspended`)."""
        return not self.weekly and not self.once


ALWAYS = Schedule()


@dataclass(frozen=True, slots=True)
class Assignment:
    """One zone applied to one subject, with its role and schedule."""

    id: int
    subject_id: int
    zone_id: int
    role: ZoneRole
    schedule: Schedule = field(default=ALWAYS)
    leave_id: int | None = None  # the destination of this approved leave
