"""`ccmon bench alerts`: the alerts an ordinary month makes, and whether every planted
violation is caught and how fast.

A county (simulators/month.py) lives a month in simulated time; every minute's messages, in
the documented wire format (a native v1 fix or status event each), go through ingest's
decoding and order gate, then the geofence and the rules (zone, curfew, separation; events
through the device-event rule), and the clock rules (silence, curfew start, reminders) tick
at the end of the minute, as ingest's clock would. No MQTT, no database: ingest's and the
rules' own code, at the times they would run. An alert opens where the lifecycle would open one: a
finding with no live alert for its (subject, kind, assignment, device); the officer closes
an alert half an hour after it opened once its condition has ended. Each alert is matched to
a planted violation of its subject and kind, or counted false.
"""

from __future__ import annotations

import math
import time as clock
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

import store
from alerts import Memory, Registry, RuleBook, SuspectPolicy, nights
from alerts.places import Night
from alerts.stays import StayPolicy
from ccmon.bench.common import print_table
from domain import (
    AlertKind,
    Assignment,
    Device,
    DeviceKind,
    Finding,
    Leave,
    LeaveState,
    MonitoringOrder,
    OneOffWindow,
    Party,
    Prohibition,
    Schedule,
    SupervisionLevel,
    WeeklyWindow,
    Zone,
    ZoneRole,
)
from geofence import ZoneIndex
from ingest import Limits, Message, admit, decode_messages
from simulators import Month, Plant, Planted, event_payload, fix_payload
from simulators.month import (
    CONTACT_M,
    CONTACT_S,
    DAY_S,
    HOME_RADIUS_M,
    INTERVAL_S,
    LEAVE_WIDTH_M,
    M_PER_DEG,
    PROTECTED_M,
    SCHOOL_RADIUS_M,
    Person,
    Trip,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from domain import FixBatch, LevelPolicy
    from simulators.month import Step

# What each planted violation must raise (the first of these catches it: a dead phone is the
# subject's silence when it is their only device, the device's when the band still talks);
# and what else it may raise, from when it starts, without that alert being false.
_SILENT = frozenset({AlertKind.DEVICE_SILENT, AlertKind.SUBJECT_SILENT})
EXPECTED: dict[Plant, frozenset[AlertKind]] = {
    Plant.WALK_OUT: frozenset({AlertKind.ZONE_EXIT}),
    Plant.ENTER_EXCLUSION: frozenset({AlertKind.ZONE_ENTRY}),
    Plant.BREAK_CURFEW: frozenset({AlertKind.CURFEW}),
    Plant.PHONE_LEFT_HOME: frozenset({AlertKind.SEPARATION}),
    Plant.CUT_STRAP: frozenset({AlertKind.TAMPER}),
    Plant.PHONE_DIES: _SILENT,
    Plant.BATTERY_DIES: _SILENT | {AlertKind.POWER_OFF},
    Plant.LATE_RETURN: frozenset({AlertKind.LEAVE_OVERDUE}),
    Plant.APPROACH_VICTIM: frozenset({AlertKind.PROTECTED_PERSON_PROXIMITY}),
    Plant.MEET_CODEFENDANT: frozenset({AlertKind.PROHIBITED_CONTACT}),
    Plant.NIGHT_OUT: frozenset({AlertKind.NIGHT_AWAY}),
}
ALSO: dict[Plant, frozenset[AlertKind]] = {
    Plant.PHONE_DIES: _SILENT,
    Plant.BATTERY_DIES: _SILENT | {AlertKind.LOW_BATTERY},
    # out in the evening: still out when the curfew begins at 22:00
    Plant.WALK_OUT: frozenset({AlertKind.CURFEW}),
    # warned of on the way (see `warnings`)
    Plant.ENTER_EXCLUSION: frozenset({AlertKind.CURFEW, AlertKind.APPROACHING}),
    Plant.APPROACH_VICTIM: frozenset({AlertKind.CURFEW, AlertKind.APPROACHING}),
    Plant.MEET_CODEFENDANT: frozenset({AlertKind.CURFEW, AlertKind.NIGHT_AWAY}),
    # out at night: breaking a curfew is a night away too, if it lasts
    Plant.BREAK_CURFEW: frozenset({AlertKind.NIGHT_AWAY}),
    # a phone left at home on GNSS fixes (near a window; every fix of the noise-free control
    # group) is what a faked still one looks like while the band goes on
    Plant.PHONE_LEFT_HOME: frozenset(
        {AlertKind.CURFEW, AlertKind.NIGHT_AWAY, AlertKind.SUSPECT_LOCATION}
    ),
    Plant.NIGHT_OUT: frozenset({AlertKind.CURFEW}),  # the strict have a curfew too
}
EARLY_S = 600.0  # an alert this long before the true start still matches (accuracy)
LATE_S = 1800.0  # ... and this long after the subject is back
RESOLVED_AFTER_S = 1800.0  # an officer closes an alert this long after it opened, at the soonest
_ENDS_BY_ITSELF = frozenset(
    {
        AlertKind.ZONE_EXIT,
        AlertKind.ZONE_ENTRY,
        AlertKind.CURFEW,
        AlertKind.SEPARATION,
        AlertKind.DEVICE_SILENT,
        AlertKind.SUBJECT_SILENT,
        AlertKind.LEAVE_OVERDUE,
        AlertKind.POWER_OFF,
        AlertKind.LOW_BATTERY,
        AlertKind.PROTECTED_PERSON_PROXIMITY,
        AlertKind.PROHIBITED_CONTACT,
        AlertKind.APPROACHING,
    }
)


@dataclass(frozen=True, slots=True)
class Raised:
    """An alert as the duty officer gets it: whose, what, when (simulated)."""

    subject: int
    kind: AlertKind
    at: float


@dataclass(slots=True)
class Ledger:
    """The alerts the findings open, as the store's one-live-alert-per-condition rule does:
    while an alert is live, its condition arising again is a repeat on it. The officer
    closes an alert half an hour after it opened, once its condition has ended (at once for
    kinds whose condition never ends by itself)."""

    raised: list[Raised] = field(default_factory=list)
    _live: dict[tuple[int, AlertKind, int | None, int | None, int | None], tuple[float, bool]] = (
        field(default_factory=dict)
    )  # key -> (opened at, condition ended)

    def record(self, findings: Iterable[Finding], now: float, *, clock: bool = False) -> None:
        """The findings of the minute ending at `now` (`clock`: of the clock rules)."""
        for f in findings:
            key = (f.subject_id, f.kind, f.assignment_id, f.device_id, f.prohibition_id)
            live = self._live.get(key)
            at = now if clock and f.kind in _AT_EDGES else _raised_at(f, now)
            if f.cleared:
                if live is not None:
                    self._live[key] = (live[0], True)
                continue
            if live is not None and not (live[1] and at - live[0] >= RESOLVED_AFTER_S):
                self._live[key] = (live[0], False)  # a repeat: the condition is on again
                continue
            self._live[key] = (at, f.kind not in _ENDS_BY_ITSELF)
            self.raised.append(Raised(f.subject_id, f.kind, at))


# Decided by the clock at a window's edge (a curfew's start, a leave's end, an order's
# reminder), which falls on a minute's end, from the newest position known then.
_AT_EDGES = frozenset({AlertKind.CURFEW, AlertKind.LEAVE_OVERDUE, AlertKind.ORDER_ENDING})


def _raised_at(f: Finding, now: float) -> float:
    """When ccmon raises a finding of the minute ending at `now`: ingest judges each message
    as it arrives and its clock rules tick every second, so at the finding's own time (the
    fix's or event's, or the moment a silence began) when that lies within the minute; at
    the minute's end for what arrived late (a buffered upload)."""
    return f.time if now - 60.0 < f.time <= now else now


@dataclass(frozen=True, slots=True)
class Caught:
    plant: Planted
    delay_s: float | None  # None: missed


@dataclass(frozen=True, slots=True)
class Accounts:
    caught: list[Caught]
    false: list[Raised]
    raised: int


def account(plants: Sequence[Planted], raised: Sequence[Raised]) -> Accounts:
    """Each plant caught (by the first alert of an expected kind for its subject from shortly
    before it truly began until a while after it ended) or missed; every alert that is no
    plant's (expected, or what it also causes from when it starts), false."""
    by_subject: dict[int, list[Planted]] = {}
    for p in plants:
        by_subject.setdefault(p.subject, []).append(p)

    def explains(p: Planted, a: Raised) -> bool:
        if a.kind in EXPECTED[p.kind] and p.truth - EARLY_S <= a.at <= p.ends + LATE_S:
            return True
        return a.kind in ALSO.get(p.kind, ()) and p.starts - EARLY_S <= a.at <= p.ends + LATE_S

    caught = []
    for p in plants:
        hits = [
            a.at
            for a in raised
            if a.subject == p.subject
            and a.kind in EXPECTED[p.kind]
            and p.truth - EARLY_S <= a.at <= p.ends + LATE_S
        ]
        first = min(hits, default=None)
        caught.append(Caught(p, None if first is None else first - p.truth))
    false = [a for a in raised if not any(explains(p, a) for p in by_subject.get(a.subject, ()))]
    return Accounts(caught, false, len(raised))


def warnings(
    plants: Sequence[Planted], raised: Sequence[Raised], kind: Plant = Plant.ENTER_EXCLUSION
) -> list[float | None]:
    """For each plant of `kind` (an entry into an exclusion zone, or into a protected
    person's distance), how long before the subject truly entered an `approaching` warning
    came (None: none came before)."""
    leads = []
    for p in plants:
        if p.kind is not kind:
            continue
        told = [
            a.at
            for a in raised
            if a.subject == p.subject
            and a.kind is AlertKind.APPROACHING
            and p.starts <= a.at <= p.truth
        ]
        leads.append(p.truth - min(told) if told else None)
    return leads


def _lonlat(month: Month, district: int, east: float, north: float) -> list[float]:
    lon0, lat0 = month.districts[district].centre
    k = M_PER_DEG * math.cos(math.radians(lat0))
    return [lon0 + east / k, lat0 + north / M_PER_DEG]


def _code(subject: int, wristband: bool) -> str:
    return f"{'wb' if wristband else 'ph'}-{subject}"


def _protected_code(person: int) -> str:
    return f"pp-{person}"


def devices(month: Month) -> dict[str, Device]:
    """The county's devices by code: a phone each (id 2 x subject), a band for the strict
    (2 x subject + 1), a phone for each protected person (their id: their subject's)."""
    mine = {
        _code(p.id, band): Device(2 * p.id + band, _code(p.id, band), kind, p.id, active=True)
        for p in month.people
        for band, kind in ((False, DeviceKind.PHONE), (True, DeviceKind.WRISTBAND))
        if p.band or not band
    }
    theirs = {
        _protected_code(s): Device(
            _PROTECTED_DEVICE + s,
            _protected_code(s),
            DeviceKind.PHONE,
            None,
            True,
            protected_person_id=s,
        )
        for s in month.protected
    }
    return mine | theirs


_PROTECTED_DEVICE = 10**7  # + protected person: their phone's id


def prohibitions(month: Month) -> list[Prohibition]:
    """Each subject kept from their protected person (warned 5 minutes ahead), and each
    pair of co-defendants from each other."""
    out = [Prohibition(s, s, s, Party.PROTECTED, PROTECTED_M) for s in sorted(month.protected)]
    out += [
        Prohibition(
            len(out) + i + 1 + len(month.people), a, b, Party.SUBJECT, CONTACT_M, for_s=CONTACT_S
        )
        for i, (a, b) in enumerate(month.codefendants)
    ]
    return out


_CURFEW = Schedule(weekly=(WeeklyWindow(tuple(range(7)), time(22), time(6)),))


def _circle(month: Month, p: Person, where: tuple[float, float], radius_m: float) -> dict[str, Any]:
    return {"type": "Circle", "center": _lonlat(month, p.district, *where), "radius_m": radius_m}


def _zones_of(month: Month, p: Person) -> tuple[list[Zone], list[Assignment]]:
    """A subject's zones: the district to stay in, the school to keep out of, for the strict
    a home zone 22:00-06:00 (the curfew); on a leave, its destination instead of the district
    and the home (the road to the town and the town) for the leave's window."""
    trip = month.trips.get(p.id)
    away = Schedule() if trip is None else Schedule(suspended=(_window(trip),))
    zones = [Zone(10 * p.id, "school", _circle(month, p, p.school, SCHOOL_RADIUS_M))]
    assignments = [
        Assignment(3 * p.id, p.id, p.district, ZoneRole.INCLUSION, away),
        Assignment(3 * p.id + 1, p.id, 10 * p.id, ZoneRole.EXCLUSION),
    ]
    if p.band:
        zones.append(Zone(10 * p.id + 1, "home", _circle(month, p, p.home, HOME_RADIUS_M)))
        curfew = replace(_CURFEW, suspended=away.suspended)
        assignments.append(
            Assignment(3 * p.id + 2, p.id, 10 * p.id + 1, ZoneRole.INCLUSION, curfew)
        )
    if trip is not None:
        road = [_lonlat(month, p.district, *p.home), _lonlat(month, p.district, *trip.to)]
        zones.append(
            Zone(
                10 * p.id + 2,
                "trip",
                {"type": "Corridor", "coordinates": road, "width_m": LEAVE_WIDTH_M},
            )
        )
        assignments.append(
            Assignment(
                _DESTINATION + p.id,
                p.id,
                10 * p.id + 2,
                ZoneRole.INCLUSION,
                Schedule(once=(_window(trip),)),
                leave_id=p.id,
            )
        )
    return zones, assignments


_DESTINATION = 10**7  # + subject: a leave destination's assignment


def _window(trip: Trip) -> OneOffWindow:
    return OneOffWindow(_when(trip.starts), _when(trip.ends))


def county(
    month: Month,
    policy: Mapping[SupervisionLevel, LevelPolicy],
    suspect: SuspectPolicy | None = None,
) -> RuleBook:
    """The month's county as the rules know it: each subject's zones, a phone each, a band
    for the strict, orders covering the month, the approved leaves (one per trip)."""
    zones = [Zone(d, f"district {d}", dist.geojson()) for d, dist in enumerate(month.districts)]
    assignments = []
    for p in month.people:
        mine, theirs = _zones_of(month, p)
        zones += mine
        assignments += theirs
    # beyond the month and its reminder: an order ending is not what is measured
    ends = month.start + (month.days + 60) * DAY_S
    registry = Registry.build(
        ZoneIndex.build(zones, assignments),
        devices=devices(month).values(),
        assignments=assignments,
        orders=[MonitoringOrder(p.id, p.id, month.start - DAY_S, ends) for p in month.people],
        leaves=[
            Leave(t.subject, t.subject, 10 * t.subject + 2, t.starts, t.ends, LeaveState.APPROVED)
            for t in month.trips.values()
        ],
        levels={p.id: p.level for p in month.people},
        policy=policy,
        prohibitions=prohibitions(month),
    )
    return RuleBook(registry, Memory(), watching_since=month.begins, suspect=suspect)


START = 1_764_518_400.0  # 2025-12-01 00:00 in Asia/Shanghai, the first day's midnight
# ccmon's default limits (settings): a buffered upload of the day is well within them
LIMITS = Limits(max_future_s=300.0, max_age_s=7 * DAY_S, max_accuracy_m=50_000.0)


def _when(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _messages(step: Step, protected: Step, received: float) -> list[Message]:
    """What the county's devices (and the protected persons' phones) sent in a minute, as
    the broker delivers it: one native v1 fix or status event a message (`seq` from the
    time: rising on each device)."""
    theirs = [
        Message(
            f"cc/v1/devices/{_protected_code(s)}/fix",
            fix_payload(
                when=_when(t), lon=lon, lat=lat, accuracy=acc, battery=70, seq=int(t), source="wifi"
            ),
            received,
        )
        for s, t, lon, lat, acc in zip(
            protected.subject.tolist(),
            protected.time.tolist(),
            protected.lon.tolist(),
            protected.lat.tolist(),
            protected.accuracy.tolist(),
            strict=True,
        )
    ]
    fixes = theirs + [
        Message(
            f"cc/v1/devices/{_code(s, band)}/fix",
            fix_payload(
                when=_when(t), lon=lon, lat=lat, accuracy=acc, battery=80, seq=int(t), source=src
            ),
            received,
        )
        for s, band, t, lon, lat, acc, src in zip(
            step.subject.tolist(),
            step.wristband.tolist(),
            step.time.tolist(),
            step.lon.tolist(),
            step.lat.tolist(),
            step.accuracy.tolist(),
            step.source.tolist(),
            strict=True,
        )
    ]
    events = [
        Message(
            f"cc/v1/devices/{_code(e.subject, e.wristband)}/status",
            event_payload(when=_when(e.time), event=e.event, battery=e.battery, seq=int(e.time)),
            received,
        )
        for e in step.events
    ]
    return fixes + events


class NightWatch:
    """The nights-away rule as `ccmon serve` runs it (alerts/nights.py, every minute): each
    subject's residence a circle of HOME_RADIUS_M about their home, their fixes of the last
    day with whether each lies outside it, judged each minute for those with a fix outside
    since the night began; their day trips (approved leaves) excused."""

    def __init__(self, month: Month, policy: Mapping[SupervisionLevel, LevelPolicy]) -> None:
        self.policy = policy
        self.index = nights.residence_index(
            [
                store.nights.Resident(
                    p.id, p.level, _RESIDENCE + p.id, _circle(month, p, p.home, HOME_RADIUS_M)
                )
                for p in month.people
            ]
        )
        self.level = {p.id: p.level for p in month.people}
        self.leaves = {t.subject: [(t.starts, t.ends)] for t in month.trips.values()}
        self.fixes: dict[int, list[tuple[float, bool]]] = {}
        self.last_outside: dict[int, float] = {}
        self.done: set[tuple[int, float]] = set()  # (subject, night) raised

    def add(self, batch: FixBatch) -> None:
        away = nights.outside(self.index, batch)
        for s, t, o in zip(batch.subject.tolist(), batch.time.tolist(), away.tolist(), strict=True):
            self.fixes.setdefault(s, []).append((t, o))
            if o:
                self.last_outside[s] = max(t, self.last_outside.get(s, t))

    def findings(self, now: float) -> list[Finding]:
        out = []
        for s, last in list(self.last_outside.items()):
            policy = self.policy[self.level[s]]
            night = Night(policy.night_starts_h, policy.night_ends_h)
            n0, n1 = (d.timestamp() for d in night.around(_when(now), _SHANGHAI))
            if last < n0 - STAY_GAP_S or (s, n0) in self.done:
                continue
            mine = sorted(f for f in self.fixes[s] if f[0] >= n0 - STAY_GAP_S)
            self.fixes[s] = [f for f in self.fixes[s] if f[0] >= now - DAY_S]
            judged = nights.away(
                np.array([t for t, _ in mine]),
                np.array([o for _, o in mine], np.bool_),
                start=n0,
                until=min(now, n1),
                max_gap_s=STAY_GAP_S,
                limit_s=policy.night_away_h * 3600.0,
                excused=self.leaves.get(s, ()),
            )
            if judged.crossed_at is not None:
                self.done.add((s, n0))
                out.append(Finding(AlertKind.NIGHT_AWAY, s, judged.crossed_at, "night away"))
        return out


_RESIDENCE = 2 * 10**7  # + subject: their residence's zone
_SHANGHAI = ZoneInfo("Asia/Shanghai")
STAY_GAP_S = StayPolicy().max_gap_s


def live_month(
    month: Month,
    policy: Mapping[SupervisionLevel, LevelPolicy],
    suspect: SuspectPolicy | None = None,
) -> list[Raised]:
    """Every minute of the month through ingest's decoding and the rules; the alerts they
    open."""
    rules, by_code = county(month, policy, suspect), devices(month)
    watch = NightWatch(month, policy)
    ledger = Ledger()
    for t in month.steps():
        messages = _messages(month.at(t), month.protected_at(t), t)
        decoded = decode_messages(messages, devices=by_code, owntracks={}, limits=LIMITS)
        if decoded.rejected:
            raise RuntimeError(f"the county's own messages refused: {decoded.rejected[0]}")
        got = admit(decoded, messages, rules.registry.orders, rules.registry.pairs)
        batch, events = got.batch, got.events
        if len(batch):
            verdict = rules.judge(batch, rules.registry.index.evaluate(batch), got.protected)
            ledger.record(verdict.findings, t)
            rules.apply(verdict, versions={})
            watch.add(batch)
        ledger.record(watch.findings(t), t)
        if events:
            heard = rules.hear(events)
            ledger.record(heard.findings, t)
            rules.apply(heard, versions={})
        tick = rules.tick(t)
        ledger.record(tick.findings, t, clock=True)
        rules.apply(tick, versions={}, now=t)
    return ledger.raised


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p95 = np.percentile(values, [50, 95])
    return f"{p50:,.0f} / {p95:,.0f} / {max(values):,.0f}"


def run(
    *, subjects: int, days: int, seed: int, policy: Mapping[SupervisionLevel, LevelPolicy]
) -> None:
    started = clock.perf_counter()
    month = Month(subjects=subjects, days=days, start=START, seed=seed)
    raised = live_month(month, policy)
    took = clock.perf_counter() - started
    accounts = account(month.plants, raised)
    level = {p.id: p.level for p in month.people}
    subject_days = subjects * days
    levels = Counter(level.values())
    mix = " / ".join(f"{levels[lv]:,}" for lv in INTERVAL_S)
    rows = [
        ("subjects (strict / normal / lenient) x days", f"{mix} x {days}"),
        (
            "protected persons / co-defendant pairs",
            f"{len(month.protected):,} / {len(month.codefendants):,}",
        ),
        ("simulated month took", f"{took:,.0f} s"),
        ("alerts raised / false", f"{accounts.raised:,} / {len(accounts.false):,}"),
        (
            "false alerts per subject-day (target <= 0.05)",
            f"{len(accounts.false) / subject_days:.4f}",
        ),
        ("officer actions a day (every alert is acknowledged)", f"{accounts.raised / days:,.1f}"),
        (
            "planted / caught (recall, target 100%)",
            f"{len(accounts.caught)} / {sum(c.delay_s is not None for c in accounts.caught)}",
        ),
    ]
    print_table(rows)
    print()
    print(
        "planted kind     level      plants  caught  delay s p50 / p95 / max"
        "   p95 in intervals (target <= 2)"
    )
    for kind in Plant:
        for lv, every in INTERVAL_S.items():
            mine = [
                c for c in accounts.caught if c.plant.kind is kind and level[c.plant.subject] is lv
            ]
            if not mine:
                continue
            delays = [c.delay_s for c in mine if c.delay_s is not None]
            p95 = f"{np.percentile(delays, 95) / every:.1f}" if delays else "-"
            print(
                f"{kind.value:<16} {lv.value:<9} {len(mine):>7}  {len(delays):>6}"
                f"  {_percentiles(delays):>24}   {p95}"
            )
    print()
    for kind, what in (
        (Plant.ENTER_EXCLUSION, "entries into an exclusion zone"),
        (Plant.APPROACH_VICTIM, "approaches within a protected person's distance"),
    ):
        leads = warnings(month.plants, raised, kind)
        told = [lead for lead in leads if lead is not None]
        print(
            f"{what} warned of before (approaching): {len(told)} of {len(leads)},"
            f" lead s p50 / p95 / max {_percentiles(told)}"
        )
    print()
    print(
        "alert kind                    raised   false  false by level (strict / normal / lenient)"
    )
    by = Counter((a.kind, level[a.subject]) for a in accounts.false)
    kinds = Counter(a.kind for a in raised)
    false = Counter(a.kind for a in accounts.false)
    for alert in sorted(kinds, key=lambda k: k.value):
        counts = " / ".join(f"{by[alert, lv]:,}" for lv in INTERVAL_S)
        print(f"{alert.value:<28} {kinds[alert]:>8,} {false[alert]:>7,}  {counts}")
