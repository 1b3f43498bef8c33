"""A small synthetic city from a seed: districts, subjects with homes, their devices."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from domain import DeviceKind, SupervisionLevel

_M_PER_DEG = 111_195.0
BORDER_GAP_M = 300.0  # how far inside the border a violator lives
SCHOOL_AT = 0.8  # of the district's smallest radius, due north of its centre
SCHOOL_RADIUS_M = 150.0
SCHOOL_GAP_M = 500.0  # how far from the school the one who visits it lives
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


@dataclass(frozen=True, slots=True)
class District:
    """A star-shaped irregular polygon around `centre`: every point closer to the centre than
    `min_radius_m` is inside; the border comes that close in the direction `narrow_angle`."""

    name: str
    centre: tuple[float, float]
    ring: list[tuple[float, float]]
    min_radius_m: float
    narrow_angle: float
    hole: list[tuple[float, float]] | None = None  # an enclave of another district

    @property
    def school(self) -> tuple[float, float]:
        """A school every subject of the district must keep away from (an exclusion zone),
        north of the centre, beyond where anyone wanders."""
        return offset(self.centre, 0.0, SCHOOL_AT * self.min_radius_m)

    def school_zone(self) -> dict[str, Any]:
        return {"type": "Circle", "center": list(self.school), "radius_m": SCHOOL_RADIUS_M}

    def geojson(self) -> dict[str, Any]:
        rings = [self.ring] if self.hole is None else [self.ring, self.hole]
        return {"type": "Polygon", "coordinates": [[list(p) for p in r] for r in rings]}


@dataclass(frozen=True, slots=True)
class SimDevice:
    code: str
    kind: DeviceKind


@dataclass(frozen=True, slots=True)
class SimSubject:
    """`leaves_after_s` set: this subject lives near the border and drives out of the
    district that long after the simulation starts. `visits_school_after_s` set: lives near
    the district's school and goes there, where the court said not to."""

    name: str
    level: SupervisionLevel
    district: int
    home: tuple[float, float]
    devices: tuple[SimDevice, ...]
    leaves_after_s: float | None
    visits_school_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class City:
    districts: list[District]
    subjects: list[SimSubject]


def offset(point: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    lon, lat = point
    return (
        lon + east_m / (_M_PER_DEG * math.cos(math.radians(lat))),
        lat + north_m / _M_PER_DEG,
    )


_ENCLAVE_AT = 0.85  # of the district's smallest radius: beyond where anyone wanders
_ENCLAVE_R_M = 200.0


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """(east, north) metres from a to b: the inverse of `offset`, fine within a city."""
    return (
        (b[0] - a[0]) * _M_PER_DEG * math.cos(math.radians(a[1])),
        (b[1] - a[1]) * _M_PER_DEG,
    )


def _enclave(centre: tuple[float, float], min_radius_m: float) -> list[tuple[float, float]]:
    """A small hole near the district's edge, wound against the outer ring."""
    middle = offset(centre, 0.0, -_ENCLAVE_AT * min_radius_m)
    n = 24
    ring = [
        offset(
            middle,
            _ENCLAVE_R_M * math.cos(-2 * math.pi * i / n),
            _ENCLAVE_R_M * math.sin(-2 * math.pi * i / n),
        )
        for i in range(n)
    ]
    return [*ring, ring[0]]


def _district(
    rng: random.Random, name: str, centre: tuple[float, float], *, with_hole: bool
) -> District:
    """Radius wobbles smoothly around 4.5 km: a few low harmonics with random phases."""
    vertices = 180
    harmonics = [(k, rng.uniform(0, 2 * math.pi), rng.uniform(150, 500)) for k in (2, 3, 5, 9)]
    ring = []
    radii = []
    for i in range(vertices):
        a = 2 * math.pi * i / vertices
        r = 4500.0 + sum(amp * math.sin(k * a + ph) for k, ph, amp in harmonics)
        r += rng.uniform(-40, 40)
        radii.append(r)
        ring.append(offset(centre, r * math.cos(a), r * math.sin(a)))
    ring.append(ring[0])
    narrowest = min(range(vertices), key=radii.__getitem__)
    min_radius = radii[narrowest] * math.cos(math.pi / vertices)
    return District(
        name=name,
        centre=centre,
        ring=ring,
        min_radius_m=min_radius,
        narrow_angle=2 * math.pi * narrowest / vertices,
        hole=_enclave(centre, min_radius) if with_hole else None,
    )


def generate_city(
    seed: int,
    *,
    subjects: int = 50,
    wristbands: int = 10,
    violators: int = 3,
    centre: tuple[float, float] = (104.066, 30.657),
) -> City:
    """Four districts on a 2 x 2 grid 12 km apart; the first `wristbands` subjects are under
    strict supervision and wear a wristband; the first `violators` leave their district and
    the next one (if strict) visits the school it must keep away from."""
    rng = random.Random(seed)
    districts = [
        _district(rng, f"District {i + 1}", offset(centre, dx, dy), with_hole=i == 3)
        for i, (dx, dy) in enumerate([(-6000, 6000), (6000, 6000), (-6000, -6000), (6000, -6000)])
    ]
    people = []
    for i in range(subjects):
        d = i % len(districts)
        district = districts[d]
        leaves = i < violators
        visits = i == violators and i < wristbands
        if leaves:
            a, r = district.narrow_angle, district.min_radius_m - BORDER_GAP_M
        elif visits:
            a, r = math.pi / 2, SCHOOL_AT * district.min_radius_m - SCHOOL_GAP_M
        else:
            a, r = rng.uniform(0, 2 * math.pi), rng.uniform(0, district.min_radius_m * 0.45)
        home = offset(district.centre, r * math.cos(a), r * math.sin(a))
        strict = i < wristbands
        devices = [SimDevice(f"ph-{i + 1:04d}", DeviceKind.PHONE)]
        if strict:
            devices.append(SimDevice(f"wb-{i + 1:04d}", DeviceKind.WRISTBAND))
        people.append(
            SimSubject(
                name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
                level=SupervisionLevel.STRICT if strict else SupervisionLevel.NORMAL,
                district=d,
                home=home,
                devices=tuple(devices),
                leaves_after_s=5.0 + 5.0 * i if leaves else None,
                visits_school_after_s=10.0 if visits else None,
            )
        )
    return City(districts=districts, subjects=people)
