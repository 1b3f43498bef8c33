"""A county living a month in simulated time, for measuring the alerts: ordinary days with
the noise real devices have, and planted violations with the moment each truly began.

Ordinary life, local time (UTC+8): home overnight; on weekdays a drive to work around 07:30
(a straight road at town speed), work, a drive to an errand around 17:30, half an hour
there, home; at weekends an errand in the morning. Indoors at every stop. A share of homes
lies within 50 m of the district's edge; every subject's exclusion zone (a school) lies
beside the road to work, 80 m from it, so they drive past it twice a day (and not beside
the road out of the district). The roads of an ordinary day stay inside the district (which
need not be convex): ordinary life breaks no rule.

What the devices report (the sources of each number in the README):
- outdoors: GNSS claiming 5-15 m, off by about half that; 1% of fixes thrown 60-150 m by
  multipath while still claiming metres; 3% of moments on the road in a tunnel (no fix);
- indoors, phones: Wi-Fi (85%, claiming 20-60 m) or only the cell (300-1,500 m);
- indoors, wristbands (GNSS only): no fix 60% of the time, else a poor one (15-40 m); a band
  without a fix says so (a `no_fix` device event), unless the network is down;
- on 3% of device-days the network drops for 20 minutes in the day and what was measured
  meanwhile arrives together when it comes back (buffered upload);
- on 20% of phone-days the battery runs low in the evening (`low_battery`) and is charged
  10-40 minutes later (`charging`); on 5% the phone is restarted in the day (`power_off`,
  then `power_on` one to two minutes later, nothing measured between).
A control group reports exact positions claiming 10 m, always, with no gaps.

Planted violations, one for a share of subjects on a random day after the first: walking
out of the district, entering the exclusion zone, breaking the curfew (strict: a home zone
22:00-06:00), leaving the phone at home (strict: phone and band apart), cutting the strap
(strict), a dead phone (it stops reporting for four hours, without a word), a flat battery
(the phone says `low_battery`, an hour later `power_off`, and is off for four hours), a late
return from an approved leave (home 30-90 minutes after it ended), a night out (at a friend's
600 m away, indoors, from about 23:00 until 04:00: a night away once away two hours).

Leaves: besides the late returns, 5% of subjects take an approved day trip (a leave 08:00-20:00)
to a town 8 km past their district's edge and are home 30-90 minutes before it ends; the
leave's destination is the road there and the town (a corridor 1 km wide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from domain import SupervisionLevel
from simulators.city import District, generate_city

DAY_S = 86_400.0
LOCAL_S = 8 * 3600.0  # Asia/Shanghai: UTC+8, no daylight saving
FIRST_S = 12 * 3600.0  # monitoring starts at noon of the first day
INTERVAL_S = {
    SupervisionLevel.STRICT: 60.0,
    SupervisionLevel.NORMAL: 300.0,
    SupervisionLevel.LENIENT: 900.0,
}
LEVEL_SHARE = {
    SupervisionLevel.STRICT: 0.2,
    SupervisionLevel.NORMAL: 0.5,
    SupervisionLevel.LENIENT: 0.3,
}
EDGE_SHARE = 0.1  # of homes within 50 m of the district's edge
SCHOOL_RADIUS_M = 150.0
SCHOOL_OFF_ROAD_M = 80.0  # between the road to work and the school's edge
HOME_RADIUS_M = 100.0  # the curfew's home zone
OUT_BEYOND_M = 1500.0  # how far past the district's edge one who walks out goes
TOWN_M_PER_S = 8.0
WALK_M_PER_S = 1.5
MULTIPATH = 0.01
TUNNEL = 0.03
NETWORK_DROP = 0.03  # of device-days
NETWORK_DROP_S = 1200.0
LOW_EVENING = 0.2  # of phone-days: low battery in the evening, then charged
RESTART = 0.05  # of phone-days: the phone restarted
INDOOR_BAND_GAP = 0.6

M_PER_DEG = 111_195.0


class Plant(StrEnum):
    WALK_OUT = "walk_out"
    ENTER_EXCLUSION = "enter_exclusion"
    BREAK_CURFEW = "break_curfew"
    PHONE_LEFT_HOME = "phone_left_home"
    CUT_STRAP = "cut_strap"
    PHONE_DIES = "phone_dies"
    BATTERY_DIES = "battery_dies"
    LATE_RETURN = "late_return"
    # prohibition orders (禁止令): the subject goes to the protected person, or to meet the
    # co-defendant at their home (both are alerted: the partner's plant moves nobody)
    APPROACH_VICTIM = "approach_victim"
    MEET_CODEFENDANT = "meet_codefendant"
    # a night spent away from home (夜不归宿): at a friend's from about 23:00 until 04:00
    NIGHT_OUT = "night_out"


PAIRED = frozenset({Plant.APPROACH_VICTIM, Plant.MEET_CODEFENDANT})  # only where an order is
STRICT_ONLY = frozenset({Plant.BREAK_CURFEW, Plant.PHONE_LEFT_HOME, Plant.CUT_STRAP})
# The local hour a plant starts (within the hour after), from home: the evening, but a curfew
# break is inside the curfew and the phone is left as the band walks away before it.
_PLANT_HOUR = {Plant.BREAK_CURFEW: 23.0, Plant.PHONE_LEFT_HOME: 21.0, Plant.NIGHT_OUT: 23.0}
NIGHT_OUT_S = 5 * 3600.0  # how long a night out lasts
NIGHT_AWAY_S = 2 * 3600.0  # away this long is a night away (the levels' default)
AWAY_M = 600.0  # how far from home a curfew breaker (or a band without its phone) walks,
# toward the district's centre (east, from a home by the edge, left the district once)
LOW_BATTERY_S = 3600.0  # from the phone's low_battery to its power_off
OFF_S = 4 * 3600.0  # how long a dead phone stays off
_OFF = frozenset({Plant.PHONE_DIES, Plant.BATTERY_DIES})
LEAVE_SHARE = 0.05  # of subjects take an approved day trip in the month
LEAVE_HOURS = (8.0, 20.0)  # a day trip's leave, local time
TRIP_BEYOND_M = 8000.0  # the town a trip goes to, past the district's edge
LEAVE_WIDTH_M = 1000.0  # the leave's destination: the road there and the town, this wide
PROTECTED_SHARE = 0.1  # of subjects: a protected person (a victim at home) they must not near
PROTECTED_M = 500.0  # the order's distance
CLEAR_M = 1000.0  # ordinary life passes no nearer to a protected person than this beyond it
CODEFENDANT_SHARE = 0.06  # of subjects: in a pair that must not meet
CONTACT_M, CONTACT_S = 200.0, 300.0  # the order: not within 200 m for 5 minutes
PAIRED_PLANT_SHARE = 0.5  # of protected subjects / pairs: the order broken once in the month
STOP_SHORT_M = 80.0  # where one who goes to a protected person or a co-defendant stands
MEET_S = 3600.0  # how long they stay there


@dataclass(frozen=True, slots=True)
class Planted:
    """A violation planted in a subject's month: `truth` is when it truly began (the border
    crossed, the phone 100 m behind, the strap cut), `ends` when the subject is back;
    `starts`: when the subject set out (or the battery ran low)."""

    subject: int
    kind: Plant
    starts: float
    truth: float
    ends: float


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    level: SupervisionLevel
    district: int
    home: tuple[float, float]  # metres east, north of the district's centre
    work: tuple[float, float]
    errand: tuple[float, float]
    school: tuple[float, float]
    band: bool
    noisy: bool


@dataclass(frozen=True, slots=True)
class Trip:
    """A day trip on an approved leave (请假) from `starts` to `ends`: out of the door at
    `go`, setting out for home at `back` (late, for a planted late return)."""

    subject: int
    starts: float
    ends: float
    go: float
    back: float
    to: tuple[float, float]  # the town, metres east, north of the district's centre

    def home_at(self, home: tuple[float, float]) -> float:
        return self.back + math.dist(home, self.to) / TOWN_M_PER_S


@dataclass(frozen=True, slots=True)
class Said:
    """A device event (the wire's `event`) of a subject's phone or wristband."""

    subject: int
    wristband: bool
    time: float
    event: str
    battery: int


@dataclass(slots=True)
class Step:
    """What arrives in one minute: fixes (arrays, one row each) and device events."""

    subject: NDArray[np.int64]
    wristband: NDArray[np.bool_]
    time: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    source: NDArray[np.str_]
    events: list[Said] = field(default_factory=list)


def _crossings(district: Polygon, angle: float) -> list[float]:
    """Distances from the centre at which a ray in direction `angle` crosses the district's
    boundary (its edge, and its enclave's), nearest first (metres)."""
    far = LineString([(0, 0), (20_000 * math.cos(angle), 20_000 * math.sin(angle))])
    hit = far.intersection(district.boundary)
    return sorted(Point(0, 0).distance(p) for p in getattr(hit, "geoms", [hit]))


class Month:
    """The county and its month: `steps()` yields what every device sends, minute by minute."""

    def __init__(
        self,
        *,
        subjects: int,
        days: int,
        start: float,
        seed: int,
        plant_share: float = 0.1,
        control_share: float = 0.0,
    ) -> None:
        self.start, self.days, self.rng = start, days, np.random.default_rng(seed)
        self.districts: list[District] = generate_city(seed, subjects=0).districts
        self._shapes = [self._metric(d) for d in self.districts]
        self.people = [self._person(i + 1, control_share) for i in range(subjects)]
        # a protected person's home by the subject they are protected from (their id too)
        self.protected: dict[int, tuple[float, float]] = {}
        self.codefendants: list[tuple[int, int]] = []
        self._orders()
        self._meets: dict[int, tuple[float, float]] = {}  # where a planted subject goes to
        self._out: dict[int, tuple[float, float]] = {}  # where each who walks out goes
        self.trips: dict[int, Trip] = {}  # by subject
        self.plants = self._plant(plant_share)
        self._day_trips()
        self._precompute()

    @property
    def begins(self) -> float:
        """When monitoring starts: noon of the first day (`start` is its local midnight)."""
        return self.start + FIRST_S

    # The county -----------------------------------------------------------------------

    def _metric(self, district: District) -> Polygon:
        """The district in metres around its centre, with its enclave (a hole), if any."""
        k = M_PER_DEG * math.cos(math.radians(district.centre[1]))
        c = district.centre
        rings = [district.ring] + ([district.hole] if district.hole else [])
        shell, *holes = [[((x - c[0]) * k, (y - c[1]) * M_PER_DEG) for x, y in r] for r in rings]
        return Polygon(shell, holes)

    def _inside(self, shape: Polygon, r_max: float) -> tuple[float, float]:
        while True:
            a, r = self.rng.uniform(0, 2 * math.pi), r_max * math.sqrt(self.rng.uniform())
            p = (r * math.cos(a), r * math.sin(a))
            if shape.contains(Point(p)):
                return p

    def _person(self, pid: int, control_share: float) -> Person:
        level = SupervisionLevel(
            self.rng.choice([lv.value for lv in LEVEL_SHARE], p=list(LEVEL_SHARE.values()))
        )
        d = pid % len(self.districts)
        shape = self._shapes[d]
        if self.rng.uniform() < EDGE_SHARE:
            a = self.rng.uniform(0, 2 * math.pi)
            r = _crossings(shape, a)[0] - self.rng.uniform(10, 50)
            home = (r * math.cos(a), r * math.sin(a))
        else:
            home = self._inside(shape, 3000.0)
        a = math.atan2(home[1], home[0])
        outward = LineString([home, (20_000 * math.cos(a), 20_000 * math.sin(a))])
        while True:
            # The school beside the middle of the road to work, and no other road (nor the
            # road out of the district, which a walk-out or a day trip takes); every road of
            # an ordinary day inside the district: ordinary life breaks no rule.
            work, errand = self._inside(shape, 3000.0), self._inside(shape, 3000.0)
            mx, my = (home[0] + work[0]) / 2, (home[1] + work[1]) / 2
            length = math.hypot(work[0] - home[0], work[1] - home[1]) or 1.0
            nx, ny = -(work[1] - home[1]) / length, (work[0] - home[0]) / length
            off = SCHOOL_RADIUS_M + SCHOOL_OFF_ROAD_M
            school = (mx + nx * off, my + ny * off)
            others = MultiLineString([[work, errand, home], outward.coords])
            roads = MultiLineString([[home, work, errand, home], [home, errand]])
            if others.distance(Point(school)) >= off and shape.contains(roads):
                break
        band = level is SupervisionLevel.STRICT
        noisy = self.rng.uniform() >= control_share
        return Person(pid, level, d, home, work, errand, school, band, noisy)

    def _plant(self, share: float) -> list[Planted]:
        plants: list[Planted] = []
        ordered = {s for pair in self.codefendants for s in pair} | set(self.protected)
        for p in self.people:
            if p.id in ordered:
                continue
            if self.days < 2 or self.rng.uniform() >= share:
                continue
            kinds = [
                k
                for k in Plant
                if k not in PAIRED
                and (p.level is SupervisionLevel.STRICT or k not in STRICT_ONLY)
                and (k is not Plant.NIGHT_OUT or self.days >= 3)
            ]
            kind = Plant(self.rng.choice([k.value for k in kinds]))
            # a night out ends the next morning: not on the month's last day
            day = int(self.rng.integers(1, self.days - (kind is Plant.NIGHT_OUT)))
            if kind is Plant.LATE_RETURN:
                trip = self._trip(p, day, late=True)
                plants.append(Planted(p.id, kind, trip.starts, trip.ends, trip.home_at(p.home)))
                continue
            hour = _PLANT_HOUR.get(kind, 20.0) + self.rng.uniform(0, 0.9)
            starts = self.start + day * DAY_S + hour * 3600
            plants.append(self._truth(p, kind, starts))
        return plants + self._breaches(max(share, PAIRED_PLANT_SHARE))

    def _breaches(self, share: float) -> list[Planted]:
        """The orders broken: a subject going to their protected person, one of a pair going
        to the other's home (an evening hour: the other is in)."""
        out = []
        goes = [(s, self.protected[s], PROTECTED_M) for s in sorted(self.protected)]
        goes += [(a, self.people[b - 1].home, CONTACT_M) for a, b in self.codefendants]
        for subject, to, within in goes:
            if self.days < 2 or self.rng.uniform() >= share:
                continue
            p = self.people[subject - 1]
            starts = self.start + int(self.rng.integers(1, self.days)) * DAY_S
            starts += (20.0 + self.rng.uniform(0, 0.9)) * 3600
            self._meets[subject] = to
            d = math.dist(p.home, to)
            # the breach: within the distance; for a pair, once that has lasted the order's time
            truth = starts + (d - within) / TOWN_M_PER_S + (CONTACT_S if within == CONTACT_M else 0)
            ends = starts + (d - STOP_SHORT_M) / TOWN_M_PER_S + MEET_S
            if within == PROTECTED_M:
                out.append(Planted(subject, Plant.APPROACH_VICTIM, starts, truth, ends))
                continue
            other = next(b for a, b in self.codefendants if a == subject)
            out += [
                Planted(s, Plant.MEET_CODEFENDANT, starts, truth, ends) for s in (subject, other)
            ]
        return out

    def _orders(self) -> None:
        """Prohibition orders: a protected person at home somewhere in the subject's district
        their ordinary days (and the roads out) never come near, reachable on a straight
        road inside the district that keeps clear of their school; pairs of subjects of one
        district whose homes, work and errands are far apart, one's home reachable from the
        other's as well."""
        taken: set[int] = set()
        for p in self.people:
            if self.rng.uniform() >= PROTECTED_SHARE:
                continue
            shape = self._shapes[p.district]
            for _ in range(200):
                at = self._inside(shape, 3000.0)
                if self._clear(p, at, PROTECTED_M + CLEAR_M):
                    self.protected[p.id] = at
                    taken.add(p.id)
                    break
        for p in self.people:
            if p.id in taken or self.rng.uniform() >= CODEFENDANT_SHARE / 2:
                continue
            for q in self.people:
                if q.id in taken or q.id == p.id or q.district != p.district:
                    continue
                mine, theirs = (p.home, p.work, p.errand), (q.home, q.work, q.errand)
                if min(math.dist(a, b) for a in mine for b in theirs) < 4 * CONTACT_M:
                    continue
                if self._clear(p, q.home, 0.0) and self._clear(q, p.home, 0.0):
                    self.codefendants.append((p.id, q.id))
                    taken |= {p.id, q.id}
                    break

    def _clear(self, p: Person, at: tuple[float, float], off_m: float) -> bool:
        """Is `at` at least `off_m` from every road of p's days (and the road out), and the
        straight way there from p's home inside the district, well clear of p's school?"""
        a = math.atan2(p.home[1], p.home[0])
        outward = [p.home, (20_000 * math.cos(a), 20_000 * math.sin(a))]
        roads = MultiLineString([[p.home, p.work, p.errand, p.home], outward])
        way = LineString([p.home, at])
        return (
            roads.distance(Point(at)) >= off_m
            and self._shapes[p.district].contains(way)
            and way.distance(Point(p.school)) >= SCHOOL_RADIUS_M + 400.0
        )

    def _day_trips(self) -> None:
        planted = {pl.subject for pl in self.plants}
        for p in self.people:
            if p.id not in planted and self.rng.uniform() < LEAVE_SHARE and self.days >= 2:
                self._trip(p, int(self.rng.integers(1, self.days)), late=False)

    def _trip(self, p: Person, day: int, *, late: bool) -> Trip:
        """A day trip of `p` on day `day`, home in time or (`late`) 30-90 minutes late."""
        a = math.atan2(p.home[1], p.home[0])
        far = _crossings(self._shapes[p.district], a)[-1] + TRIP_BEYOND_M
        to = (far * math.cos(a), far * math.sin(a))
        drive = math.dist(p.home, to) / TOWN_M_PER_S
        midnight = self.start + day * DAY_S
        starts, ends = (midnight + h * 3600 for h in LEAVE_HOURS)
        home = ends + (1 if late else -1) * self.rng.uniform(1800, 5400)
        go = starts + self.rng.uniform(1800, 3600)
        trip = Trip(p.id, starts, ends, go, home - drive, to)
        self.trips[p.id] = trip
        return trip

    def _truth(self, p: Person, kind: Plant, starts: float) -> Planted:
        """When the planted violation truly begins, from where the subject goes (from home)."""
        hx, hy = p.home
        if kind is Plant.WALK_OUT:
            a = math.atan2(hy, hx)
            # out past the district's far edge; out of it from the first crossing on the way
            crossings = _crossings(self._shapes[p.district], a)
            beyond = crossings[-1] + OUT_BEYOND_M
            self._out[p.id] = (beyond * math.cos(a), beyond * math.sin(a))
            edge = next(r for r in crossings if r > math.hypot(hx, hy))
            truth = starts + (edge - math.hypot(hx, hy)) / TOWN_M_PER_S
            return Planted(p.id, kind, starts, truth, starts + 3 * 3600)
        if kind is Plant.ENTER_EXCLUSION:
            d = math.hypot(p.school[0] - hx, p.school[1] - hy) - SCHOOL_RADIUS_M
            return Planted(p.id, kind, starts, starts + d / TOWN_M_PER_S, starts + 2 * 3600)
        if kind in (Plant.BREAK_CURFEW, Plant.PHONE_LEFT_HOME, Plant.NIGHT_OUT):
            left = starts + HOME_RADIUS_M / WALK_M_PER_S
            night = kind is Plant.NIGHT_OUT  # a night away once away for the limit
            truth, lasts = (left + NIGHT_AWAY_S, NIGHT_OUT_S) if night else (left, 2 * 3600.0)
            return Planted(p.id, kind, starts, truth, starts + lasts)
        if kind is Plant.PHONE_DIES:
            return Planted(p.id, kind, starts, starts, starts + OFF_S)
        if kind is Plant.BATTERY_DIES:
            off = starts + LOW_BATTERY_S
            return Planted(p.id, kind, starts, off, off + OFF_S)
        return Planted(p.id, kind, starts, starts, starts + 60)

    def _phone_days(
        self, share: float, hours: tuple[float, float], lasting: tuple[float, float]
    ) -> dict[tuple[int, int], tuple[float, float]]:
        """(day, subject row) -> (from, to) in seconds of that day, for `share` of the
        phone-days (none on a planted subject's day, nor the first)."""
        n, rng = len(self.people), self.rng
        picked = rng.uniform(size=(self.days, n)) < share
        at = rng.uniform(*hours, size=(self.days, n)) * 3600
        lasts = rng.uniform(*lasting, size=(self.days, n))
        planted = {(int((pl.truth - self.start) // DAY_S), pl.subject - 1) for pl in self.plants}
        return {
            (d, i): (float(at[d, i]), float(at[d, i] + lasts[d, i]))
            for d, i in zip(*(rows.tolist() for rows in np.nonzero(picked)), strict=True)
            if d > 0 and (d, i) not in planted
        }

    # Where everyone is ------------------------------------------------------------------

    def _precompute(self) -> None:
        n = len(self.people)
        self._home = np.array([p.home for p in self.people])
        self._work = np.array([p.work for p in self.people])
        self._errand = np.array([p.errand for p in self.people])
        self._school = np.array([p.school for p in self.people])
        self._centre = np.array(
            [self.districts[p.district].centre for p in self.people], dtype=np.float64
        )
        self._k = M_PER_DEG * np.cos(np.radians(self._centre[:, 1]))
        # each day's departures (local seconds of the day): to work, to the errand
        self._leave = 7.5 * 3600 + self.rng.uniform(-1800, 1800, (self.days + 1, n))
        self._back = 17.5 * 3600 + self.rng.uniform(-1800, 1800, (self.days + 1, n))
        self._noisy = np.array([p.noisy for p in self.people])
        self._band = np.array([p.band for p in self.people])
        interval = np.array([INTERVAL_S[p.level] for p in self.people])
        self._every = np.rint(interval / 60).astype(np.int64)  # in minutes
        self._phase = self.rng.integers(0, 10**6, (2, n)) % self._every
        # the second within its minute each device reports at: phone and band never agree
        self._second = self.rng.uniform(0, 60, (2, n))
        drops = self.rng.uniform(size=(self.days + 1, 2, n)) < NETWORK_DROP
        self._drop_at = np.where(drops, self.rng.uniform(9, 16, drops.shape) * 3600, np.nan)
        self._plants = {pl.subject: pl for pl in self.plants}
        restart = self._phone_days(RESTART, (8.0, 22.0), (60.0, 120.0))
        self._restarts: dict[int, list[tuple[int, float, float]]] = {}  # by day
        for (day, i), (at, until) in restart.items():
            self._restarts.setdefault(day, []).append((i, at, until))
        low = self._phone_days(LOW_EVENING, (19.0, 23.0), (600.0, 2400.0))
        said = [e for pl in self.plants for e in _plant_events(pl)]
        for words, days in (
            (("power_off", "power_on"), restart),
            (("low_battery", "charging"), low),
        ):
            for (day, i), (at, until) in days.items():
                said += [
                    Said(i + 1, False, self.start + day * DAY_S + at, words[0], 15),
                    Said(i + 1, False, self.start + day * DAY_S + until, words[1], 15),
                ]
        self._said = sorted(said, key=lambda e: e.time)
        self._said_at = np.array([e.time for e in self._said])
        self._pending: list[tuple[NDArray[np.float64], Step]] = []

    def _routine(self, times: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """(positions, indoors) of every subject, each at its own time in `times`, as their
        ordinary day has it."""
        rows = np.arange(len(self.people))
        local = times - self.start
        day = np.clip((local // DAY_S).astype(np.int64), 0, self.days)
        s = local - day * DAY_S
        weekend = ((int((self.start + LOCAL_S) // DAY_S) + day + 3) % 7 >= 5)[:, None]
        out = np.where(weekend, self._errand, self._work)  # where the day's first leg goes
        legs = [  # (from, to, when it begins); at weekends an errand and home, no third leg
            (self._home, out, np.where(weekend[:, 0], 10 * 3600.0, self._leave[day, rows])),
            (
                out,
                np.where(weekend, self._home, self._errand),
                np.where(weekend[:, 0], 11.5 * 3600.0, self._back[day, rows]),
            ),
            (
                self._errand,
                self._home,
                np.where(weekend[:, 0], np.inf, self._back[day, rows] + 2400.0),
            ),
        ]
        pos = self._home.copy()
        indoors = np.ones(len(self.people), np.bool_)
        for a, b, begin in legs:
            length = np.hypot(*(b - a).T)
            gone = (s - begin) * TOWN_M_PER_S
            moving = (gone > 0) & (gone < length)
            arrived = gone >= length
            share = np.clip(gone / np.maximum(length, 1.0), 0, 1)[:, None]
            pos = np.where(moving[:, None], a + (b - a) * share, np.where(arrived[:, None], b, pos))
            indoors = np.where(moving, False, indoors)
        return pos, indoors

    def _planted(
        self,
        t: float,
        person: Person,
        plant: Planted,
        pos: NDArray[np.float64],
        indoors: NDArray[np.bool_],
    ) -> tuple[float, float] | None:
        """Where the planted subject is (and their phone, if left behind: returned)."""
        i = person.id - 1
        since = t - plant.starts
        if not 0 <= since < plant.ends - plant.starts:
            return None
        home = self._home[i]
        if plant.kind is Plant.WALK_OUT:
            target, speed = np.array(self._out[person.id]), TOWN_M_PER_S
        elif plant.kind is Plant.ENTER_EXCLUSION:
            target, speed = self._school[i], TOWN_M_PER_S
        elif plant.kind in (Plant.BREAK_CURFEW, Plant.PHONE_LEFT_HOME, Plant.NIGHT_OUT):
            inward = -home / max(float(np.hypot(*home)), 1.0)
            target, speed = home + inward * AWAY_M, WALK_M_PER_S
        elif plant.kind in PAIRED and person.id in self._meets:  # the one who goes
            to = np.array(self._meets[person.id])
            way = float(np.hypot(*(to - home)))
            target, speed = home + (to - home) * (way - STOP_SHORT_M) / way, TOWN_M_PER_S
        else:
            return None
        length = float(np.hypot(*(target - home)))
        share = min(1.0, since * speed / length)
        pos[i] = home + (target - home) * share
        indoors[i] = plant.kind is Plant.NIGHT_OUT and share == 1.0  # at the friend's
        return (float(home[0]), float(home[1])) if plant.kind is Plant.PHONE_LEFT_HOME else None

    def _travelled(
        self, t: float, trip: Trip, pos: NDArray[np.float64], indoors: NDArray[np.bool_]
    ) -> None:
        """Where a subject on a day trip is at `t`: home that day but for the trip; on the
        road (outdoors), or in the town (indoors)."""
        i = trip.subject - 1
        midnight = trip.starts - LEAVE_HOURS[0] * 3600
        if not midnight <= t < midnight + DAY_S:
            return
        home, to = self._home[i], np.array(trip.to)
        drive = float(np.hypot(*(to - home))) / TOWN_M_PER_S
        pos[i], indoors[i] = home, True
        if trip.go <= t < trip.go + drive:
            pos[i], indoors[i] = home + (to - home) * (t - trip.go) / drive, False
        elif trip.go + drive <= t < trip.back:
            pos[i] = to
        elif trip.back <= t < trip.back + drive:
            pos[i], indoors[i] = to + (home - to) * (t - trip.back) / drive, False

    def where(self, t: float) -> NDArray[np.float64]:
        """Where every subject truly is at `t` (metres east, north of their district's
        centre) as their ordinary days and day trips have it, planted violations left out:
        the truth stay points are measured against."""
        pos, indoors = self._routine(np.full(len(self.people), t))
        for trip in self.trips.values():
            self._travelled(t, trip, pos, indoors)
        return pos

    # What the devices send ----------------------------------------------------------------

    def steps(self) -> list[float]:
        """The end of every simulated minute of the month, from noon of its first day (a
        start inside the curfew, with no fix yet, would find everyone away from home)."""
        first = int((self.begins - self.start) // 60)
        return [self.start + 60.0 * (m + 1) for m in range(first, int(self.days * DAY_S // 60))]

    def at(self, t: float) -> Step:
        """What arrives in the minute ending at `t`: the fixes measured then (but those held
        by a network drop, which arrive together when it ends) and the device events."""
        measured, held_until, no_fix = self._measured(t, int((t - self.start) // 60))
        now = held_until <= t
        self._pending.append((held_until[~now], _take(measured, ~now)))
        out = [_take(measured, now)]
        still = []
        for until, fixes in self._pending:
            due = until <= t
            out.append(_take(fixes, due))
            if not due.all():
                still.append((until[~due], _take(fixes, ~due)))
        self._pending = still
        step = _joined(out)
        first, last = np.searchsorted(self._said_at, [t - 60, t], side="right").tolist()
        step.events = self._said[first:last] + no_fix
        return step

    def protected_at(self, t: float) -> Step:
        """The fixes of the protected persons' phones in the minute ending at `t`: one each,
        from home, indoors (Wi-Fi); `subject`: the protected person (their subject's id)."""
        ids = np.array(sorted(self.protected), dtype=np.int64)
        m, rng = ids.shape[0], self.rng
        home = np.array([self.protected[i] for i in ids.tolist()]).reshape(m, 2)
        acc = np.asarray(rng.uniform(20, 60, m), dtype=np.float64)
        a, r = rng.uniform(0, 2 * math.pi, m), np.abs(rng.normal(0, 1, m)) * acc / 2
        centre, k = self._centre[ids - 1], self._k[ids - 1]
        return Step(
            subject=ids,
            wristband=np.zeros(m, np.bool_),
            time=t - self._second[0, ids - 1],
            lon=centre[:, 0] + (home[:, 0] + r * np.cos(a)) / k,
            lat=centre[:, 1] + (home[:, 1] + r * np.sin(a)) / M_PER_DEG,
            accuracy=acc,
            source=np.full(m, "wifi", dtype="<U4"),
        )

    def _measured(self, t: float, minute: int) -> tuple[Step, NDArray[np.float64], list[Said]]:
        """Every fix measured at `t` (minute `minute` of the month), when each arrives, and
        the bands that had no fix to give and said so (`no_fix`; not while offline)."""
        local = t - self.start
        day, s = int(local // DAY_S), local % DAY_S
        due = (minute - self._phase) % self._every[None, :] == 0  # (phone, band) x subjects
        due[1] &= self._band
        # where each device is when it measures (its second of the minute), not at the minute
        (phone_pos, phone_in), (pos, indoors) = (self._routine(t - sec) for sec in self._second)
        for trip in self.trips.values():
            i = trip.subject - 1
            self._travelled(t - self._second[0, i], trip, phone_pos, phone_in)
            self._travelled(t - self._second[1, i], trip, pos, indoors)
        for pid, plant in self._plants.items():
            i = pid - 1
            left = self._planted(t - self._second[1, i], self.people[i], plant, pos, indoors)
            self._planted(t - self._second[0, i], self.people[i], plant, phone_pos, phone_in)
            if left is not None:  # the phone stays at home, indoors
                phone_pos[i], phone_in[i] = left, True
            if plant.kind in _OFF and plant.truth <= t < plant.ends:
                due[0, i] = False
        for i, at, until in self._restarts.get(day, ()):
            if at <= s < until:
                due[0, i] = False
        subject = np.concatenate([np.flatnonzero(due[0]), np.flatnonzero(due[1])])
        wristband = np.concatenate(
            [np.zeros(int(due[0].sum()), np.bool_), np.ones(int(due[1].sum()), np.bool_)]
        )
        drop = np.concatenate([self._drop_at[day, 0][due[0]], self._drop_at[day, 1][due[1]]])
        where = np.concatenate([phone_pos[due[0]], pos[due[1]]])
        inside = np.concatenate([phone_in[due[0]], indoors[due[1]]])
        noisy = self._noisy[subject]
        m = int(subject.shape[0])
        rng = self.rng
        acc: NDArray[np.float64] = rng.uniform(5, 15, m)
        spread = np.where(
            ~inside & (rng.uniform(size=m) < MULTIPATH), rng.uniform(60, 150, m), acc / 2
        )
        wifi = inside & ~wristband & (rng.uniform(size=m) < 0.85)
        cell = inside & ~wristband & ~wifi
        acc = np.where(wifi, rng.uniform(20, 60, m), acc)
        acc = np.where(cell, rng.uniform(300, 1500, m), acc)
        acc = np.where(inside & wristband, rng.uniform(15, 40, m), acc)
        spread = np.where(inside, acc / 2, spread)
        source = np.where(wifi, "wifi", np.where(cell, "cell", "gnss"))
        lost = np.where(
            inside & wristband,
            rng.uniform(size=m) < INDOOR_BAND_GAP,
            ~inside & (rng.uniform(size=m) < TUNNEL),
        )
        keep = ~(lost & noisy)
        spread = np.where(noisy, spread, 0.0)
        acc = np.where(noisy, acc, 10.0)
        source = np.where(noisy, source, "gnss")
        a = rng.uniform(0, 2 * math.pi, m)
        r = np.abs(rng.normal(0, 1, m)) * spread
        east, north = where[:, 0] + r * np.cos(a), where[:, 1] + r * np.sin(a)
        centre, k = self._centre[subject], self._k[subject]
        offline = noisy & (np.abs(s - drop) < NETWORK_DROP_S / 2)  # NaN: no drop that day
        arrives = np.where(offline, t - s + drop + NETWORK_DROP_S / 2, t)
        fixes = Step(
            subject=(subject + 1).astype(np.int64),
            wristband=wristband,
            time=t - self._second[wristband.astype(np.int64), subject],
            lon=centre[:, 0] + east / k,
            lat=centre[:, 1] + north / M_PER_DEG,
            accuracy=acc,
            source=source.astype("<U4"),
        )
        said = ~keep & inside & wristband & ~offline
        no_fix = [
            Said(s + 1, True, at, "no_fix", 80)
            for s, at in zip(subject[said].tolist(), fixes.time[said].tolist(), strict=True)
        ]
        return _take(fixes, keep), arrives[keep], no_fix


def _plant_events(plant: Planted) -> list[Said]:
    """What a planted subject's devices say about themselves."""
    if plant.kind is Plant.CUT_STRAP:
        return [Said(plant.subject, True, plant.starts, "strap_cut", 80)]
    if plant.kind is Plant.BATTERY_DIES:
        return [
            Said(plant.subject, False, plant.starts, "low_battery", 15),
            Said(plant.subject, False, plant.truth, "power_off", 2),
            Said(plant.subject, False, plant.ends, "power_on", 5),
            Said(plant.subject, False, plant.ends + 1, "charging", 5),
        ]
    return []


_FIELDS = ("subject", "wristband", "time", "lon", "lat", "accuracy", "source")


def _take(step: Step, rows: NDArray[np.bool_]) -> Step:
    return _joined([step], rows)


def _joined(steps: list[Step], rows: NDArray[np.bool_] | None = None) -> Step:
    """The steps' fixes one after the other (only `rows` of a single step, if given)."""
    columns = [np.concatenate([getattr(s, f) for s in steps]) for f in _FIELDS]
    if rows is not None:
        columns = [c[rows] for c in columns]
    subject, wristband, time, lon, lat, accuracy, source = columns
    return Step(subject, wristband, time, lon, lat, accuracy, source)
