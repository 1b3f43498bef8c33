"""A small synthetic city from a seed: districts, subjects with homes, workplaces and
errands, their devices, and the scenarios some of them play out."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

from domain import DeviceKind, SupervisionLevel
from simulators.scenarios import NEEDS_WRISTBAND, Kind, Scenario

_M_PER_DEG = 111_195.0
BORDER_GAP_M = 300.0  # how far inside the border a violator lives
SCHOOL_AT = 0.8  # of the district's smallest radius, due north of its centre
SCHOOL_RADIUS_M = 150.0
SCHOOL_GAP_M = 1000.0  # how far from the school the one who heads for it lives
PASS_GAP_M = 150.0  # between the school's edge and the road one passes it on
PASS_RUN_M = 3000.0  # that road's length, the school beside its middle
# Prohibition orders (禁止令): a protected person lives this far east of the subject who
# heads for them, and must not be come nearer than PROTECTED_RADIUS_M; two co-defendants
# live CODEFENDANT_GAP_M apart, and meet when within CONTACT_M for CONTACT_FOR_S (the demo's
# settings: an order sets its own).
VICTIM_GAP_M = 1500.0
PROTECTED_RADIUS_M = 300.0
CODEFENDANT_GAP_M = 600.0
CONTACT_M = 150.0
CONTACT_FOR_S = 5.0
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
    """A person: lives at `home`, works at `work`, runs errands at `errand` (all inside the
    district), and may play out a `scenario`."""

    name: str
    level: SupervisionLevel
    district: int
    home: tuple[float, float]
    work: tuple[float, float]
    errand: tuple[float, float]
    devices: tuple[SimDevice, ...]
    scenario: Scenario | None = None
    # a prohibition order's other side: the protected person (an index into `City.protected`)
    # the subject heads for, or the co-defendant (an index into `City.subjects`) they meet
    counterpart: int | None = None

    @property
    def label(self) -> str:
        """How progress and summaries name the subject."""
        return self.scenario.kind.value if self.scenario else "routine"


@dataclass(frozen=True, slots=True)
class SimProtected:
    """A person a prohibition order protects from subject `subject` (an index), carrying a
    phone: at home until the subject's scenario begins, then out for a walk."""

    code: str
    name: str
    home: tuple[float, float]
    device: SimDevice
    subject: int


@dataclass(frozen=True, slots=True)
class City:
    districts: list[District]
    subjects: list[SimSubject]
    protected: list[SimProtected] = field(default_factory=list)


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
    vertices = 360
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


_ROUTINE_R = 0.45  # of the district's smallest radius: where ordinary life happens
# ... but this far east or west of the school's meridian at least: ordinary roads go east,
# then north, and none of them leads at the school (nobody is warned of heading for it)
_OFF_SCHOOL_LINE_M = 450.0


def _home(rng: random.Random, district: District, kind: Kind | None) -> tuple[float, float]:
    """Near the border for those who leave, near the school for its visitor, else anywhere in
    the middle of the district."""
    if kind in (Kind.WALK_OUT, Kind.LATE_RETURN):
        a, r = district.narrow_angle, district.min_radius_m - BORDER_GAP_M
    elif kind is Kind.HEADS_FOR_SCHOOL:
        a, r = math.pi / 2, SCHOOL_AT * district.min_radius_m - SCHOOL_GAP_M
    elif kind is Kind.PASS_BY:  # west of the school, level with the road past it
        school_east, school_north = 0.0, SCHOOL_AT * district.min_radius_m
        road = school_north - SCHOOL_RADIUS_M - PASS_GAP_M
        return offset(district.centre, school_east - PASS_RUN_M / 2, road)
    elif kind is Kind.APPROACH_VICTIM:  # west of the centre, the protected person east of it
        a, r = math.pi, VICTIM_GAP_M * 2 / 3
    elif kind is Kind.MEET_CODEFENDANT:  # south of the centre, the co-defendant to the east
        a, r = -math.pi / 2, VICTIM_GAP_M * 2 / 3
    else:
        return _somewhere(rng, district)
    return offset(district.centre, r * math.cos(a), r * math.sin(a))


def _somewhere(rng: random.Random, district: District) -> tuple[float, float]:
    """Where ordinary life happens: in the middle of the district, off the school's line."""
    while True:
        a, r = rng.uniform(0, 2 * math.pi), rng.uniform(0, district.min_radius_m * _ROUTINE_R)
        if abs(r * math.cos(a)) >= _OFF_SCHOOL_LINE_M:
            return offset(district.centre, r * math.cos(a), r * math.sin(a))


def generate_city(
    seed: int,
    *,
    subjects: int = 50,
    wristbands: int = 10,
    scenarios: tuple[Scenario, ...] = (),
    centre: tuple[float, float] = (104.066, 30.657),
) -> City:
    """Four districts on a 2 x 2 grid 12 km apart. Subject i plays scenarios[i], if any, under
    strict supervision (with a wristband where the scenario needs one); of the others, the
    first `wristbands` are strict and wear one, the rest are under normal supervision. There
    are `subjects` in all, or as many as there are scenarios; besides, each subject who heads
    for a protected person has one (`City.protected`), and each who meets a co-defendant has
    one, another subject of the same district appended after all the others."""
    rng = random.Random(seed)
    districts = [
        _district(rng, f"District {i + 1}", offset(centre, dx, dy), with_hole=i == 3)
        for i, (dx, dy) in enumerate([(-6000, 6000), (6000, 6000), (-6000, -6000), (6000, -6000)])
    ]
    people = []
    for i in range(max(subjects, len(scenarios))):
        d = i % len(districts)
        scenario = scenarios[i] if i < len(scenarios) else None
        if scenario is not None:
            strict = True
            band = scenario.kind in NEEDS_WRISTBAND
        else:
            strict = band = i - len(scenarios) < wristbands
        devices = [SimDevice(f"ph-{i + 1:04d}", DeviceKind.PHONE)]
        if band:
            devices.append(SimDevice(f"wb-{i + 1:04d}", DeviceKind.WRISTBAND))
        people.append(
            SimSubject(
                name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
                level=SupervisionLevel.STRICT if strict else SupervisionLevel.NORMAL,
                district=d,
                home=_home(rng, districts[d], scenario.kind if scenario else None),
                work=_somewhere(rng, districts[d]),
                errand=_somewhere(rng, districts[d]),
                devices=tuple(devices),
                scenario=scenario,
            )
        )
    return _with_counterparts(rng, City(districts=districts, subjects=people))


def _with_counterparts(rng: random.Random, city: City) -> City:
    """The protected persons and co-defendants the prohibition scenarios need."""
    people, protected = list(city.subjects), list[SimProtected]()
    for i, s in enumerate(city.subjects):
        kind = s.scenario.kind if s.scenario else None
        if kind is Kind.APPROACH_VICTIM:
            n = len(protected) + 1
            protected.append(
                SimProtected(
                    code=f"P-{n:02d}",
                    name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
                    home=offset(s.home, VICTIM_GAP_M, 0.0),
                    device=SimDevice(f"pp-{n:04d}", DeviceKind.PHONE),
                    subject=i,
                )
            )
            people[i] = replace(s, counterpart=n - 1)
        elif kind is Kind.MEET_CODEFENDANT:
            j = len(people)
            people[i] = replace(s, counterpart=j)
            home = offset(s.home, CODEFENDANT_GAP_M, 0.0)
            people.append(
                replace(
                    s,
                    name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
                    home=home,
                    work=home,
                    errand=home,
                    devices=(SimDevice(f"ph-{j + 1:04d}", DeviceKind.PHONE),),
                    counterpart=i,
                )
            )
    return replace(city, subjects=people, protected=protected)
