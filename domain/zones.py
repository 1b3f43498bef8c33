"""Zones and which subject must stay inside (or out of) which zone."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ZoneRole(StrEnum):
    INCLUSION = "inclusion"  # must stay inside: the district or county of residence
    EXCLUSION = "exclusion"  # must stay out: a victim's home, a school


@dataclass(frozen=True, slots=True)
class Zone:
    """A named area; `geometry` is a GeoJSON Polygon or MultiPolygon in WGS-84."""

    id: int
    name: str
    geometry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Assignment:
    """One zone applied to one subject, with its role."""

    id: int
    subject_id: int
    zone_id: int
    role: ZoneRole
