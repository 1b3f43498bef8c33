"""Every rule, with what the rules remember between batches.

The pure rules decide from a batch (or the clock) and the remembered state; the result is a
`Verdict`: findings plus the state they lead to. The caller writes the verdict (`save`) in
the same transaction as the fixes, and only then `apply`s it, so a failed write is retried
with the same decision and a restart resumes from the stored state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import store
from alerts import notices
from alerts.device_events import battery_words, event_findings, low_battery_due, switched_off
from alerts.heading import heading_findings
from alerts.orders import OrderBook, order_reminders
from alerts.policy import Policies
from alerts.proximity import Pairs, ProximityState, proximity_findings
from alerts.separation import separation_findings
from alerts.silence import Silence, Watched, silence_findings
from alerts.suspect import COLUMNS as CHECK_COLUMNS
from alerts.suspect import Partners, SuspectPolicy, no_checks, suspect_findings
from alerts.tracks import COLUMNS as TRACK_COLUMNS
from alerts.tracks import no_tracks
from alerts.windows import curfew_start_findings, leave_end_findings
from alerts.zones import zone_findings
from domain import (
    DEFAULT_LEVELS,
    AlertKind,
    DeviceEvent,
    DeviceKind,
    EventReport,
    Finding,
    FixBatch,
    Ids,
    Leave,
    LeaveState,
    Positions,
    RunStates,
    SeparationStates,
    Text,
    Times,
    ZoneRole,
)
from geofence import ZoneIndex

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from psycopg import AsyncConnection

    from domain import (
        AlertChange,
        Assignment,
        Device,
        LevelPolicy,
        MonitoringOrder,
        Prohibition,
        SupervisionLevel,
    )
    from geofence import Evaluation

# An order's supervisor is reminded this long before it ends (Art. 29: review, then renew).
ORDER_WARNING_S = 7 * 86400.0
# A process taking the clock rules over judges the window edges (curfew start, leave end)
# since the last tick of the process before it, unless that is longer ago than this.
CLOCK_CATCH_UP_S = 600.0


def _ids(values: Iterable[int]) -> Ids:
    return np.array(sorted(values), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Registry:
    """What the rules know of subjects, devices, zones, orders and leaves; rebuilt when
    those change."""

    index: ZoneIndex
    policies: Policies
    orders: OrderBook
    curfews: Ids  # inclusion zones on weekly windows (home at night)
    districts: Ids  # inclusion zones at all times (suspended during leaves)
    leaves: tuple[Leave, ...]  # approved
    destinations: dict[int, int]  # leave id -> the assignment of its destination
    paired: Ids  # subjects carrying both a phone and a wristband
    wristbands: Ids  # device ids
    watched: Watched
    pairs: Pairs  # the prohibitions watched
    partner: Partners  # a paired subject's phone -> wristband, and back

    @classmethod
    def build(
        cls,
        index: ZoneIndex,
        *,
        devices: Iterable[Device],
        assignments: Iterable[Assignment],
        orders: Iterable[MonitoringOrder],
        leaves: Iterable[Leave],
        levels: Mapping[int, SupervisionLevel],
        policy: Mapping[SupervisionLevel, LevelPolicy],
        prohibitions: Iterable[Prohibition] = (),
    ) -> Registry:
        bound = [d for d in devices if d.active and d.subject_id is not None]
        kinds: dict[int, set[DeviceKind]] = {}
        for d in bound:
            kinds.setdefault(d.subject_id or 0, set()).add(d.kind)
        inclusion = [a for a in assignments if a.role is ZoneRole.INCLUSION]
        return cls(
            index=index,
            policies=Policies.build(levels, policy),
            orders=OrderBook.build(orders),
            curfews=_ids(a.id for a in inclusion if a.schedule.weekly),
            districts=_ids(a.id for a in inclusion if a.schedule.always and a.leave_id is None),
            leaves=tuple(lv for lv in leaves if lv.state is LeaveState.APPROVED),
            destinations={a.leave_id: a.id for a in inclusion if a.leave_id is not None},
            paired=_ids(s for s, k in kinds.items() if len(k) == len(DeviceKind)),
            wristbands=_ids(d.id for d in bound if d.kind is DeviceKind.WRISTBAND),
            watched=Watched(
                device=np.array([d.id for d in bound], dtype=np.int64),
                subject=np.array([d.subject_id for d in bound], dtype=np.int64),
                wristband=np.array([d.kind is DeviceKind.WRISTBAND for d in bound], np.bool_),
            ),
            pairs=Pairs.build(prohibitions),
            partner=Partners.of(_partners(bound)),
        )


def _partners(bound: list[Device]) -> dict[int, int]:
    """Each device of a subject with one phone and one wristband -> the other."""
    of: dict[int, list[Device]] = {}
    for d in bound:
        of.setdefault(d.subject_id or 0, []).append(d)
    partner = {}
    for devices in of.values():
        if len(devices) == 2 and devices[0].kind is not devices[1].kind:
            partner[devices[0].id], partner[devices[1].id] = devices[1].id, devices[0].id
    return partner


@dataclass(slots=True)
class Memory:
    """What the rules remember; the run states are stored, the rest is rebuilt from fixes,
    events, reminders and live alerts. `versions`: per subject, the version of the stored
    state this memory reflects (another process judging the subject moves it on)."""

    zones: RunStates = field(default_factory=RunStates.none)
    separation: SeparationStates = field(default_factory=SeparationStates.none)
    last_seen: Times = field(default_factory=Times.none)  # device -> newest report
    last_fix: Positions = field(default_factory=Positions.none)  # subject -> newest fix
    proximity: ProximityState = field(default_factory=ProximityState)
    heading: RunStates = field(default_factory=RunStates.none)  # exclusion zone's warning
    tracks: Positions = field(default_factory=no_tracks)  # party -> newest fix and motion
    checks: Positions = field(default_factory=no_checks)  # device -> alerts.suspect's check
    silence: Silence = field(default_factory=Silence)
    resumed: dict[int, float] = field(default_factory=dict)  # quiet device -> see Silence
    said_off: dict[int, float] = field(default_factory=dict)  # device -> its power_off, if last
    running_low: dict[int, EventReport] = field(default_factory=dict)  # low_battery, uncharged
    overdue: dict[int, int] = field(default_factory=dict)  # subject -> leave destination
    reminded: set[tuple[int, float]] = field(default_factory=set)  # (order, its end)
    versions: dict[int, int] = field(default_factory=dict)

    @classmethod
    async def load(cls, conn: AsyncConnection[Any]) -> Memory:
        """Everything, consistently: call under `store.rule_state.lock_rules(conn, alone=True)`."""
        memory = cls(
            silence=await _silence(conn),
            reminded=await store.orders.load_reminded(conn),
            versions=await store.rule_state.rule_versions(conn),
        )
        await memory.reload(conn, None)
        return memory

    async def reload(self, conn: AsyncConnection[Any], subjects: list[int] | None) -> None:
        """Take the stored state of these subjects (None: all), which another process
        may have moved on. State is only ever added to or replaced, never removed,
        except an overdue leave's."""
        self.zones = self.zones.updated(await store.rule_state.load_zone_state(conn, subjects))
        self.separation = self.separation.updated(
            await store.rule_state.load_separation_state(conn, subjects)
        )
        self.last_seen = self.last_seen.latest(await store.rule_state.last_reports(conn, subjects))
        self.last_fix = self.last_fix.newer(await store.rule_state.last_positions(conn, subjects))
        near, approach = await store.rule_state.load_proximity_state(conn, subjects)
        self.proximity = self.proximity.updated(
            ProximityState(RunStates.of(near), RunStates.of(approach))
        )
        self.heading = self.heading.updated(
            await store.rule_state.load_heading_state(conn, subjects)
        )
        self.tracks = self.tracks.newer(
            _rows(await store.rule_state.load_tracks(conn, subjects), TRACK_COLUMNS)
        )
        self.checks = self.checks.newer(
            _rows(await store.rule_state.load_checks(conn, subjects), CHECK_COLUMNS)
        )
        for subject in list(self.overdue) if subjects is None else subjects:
            self.overdue.pop(subject, None)
        self.overdue.update(await store.alerts.live_overdue(conn, subjects))


def _rows(stored: Mapping[int, list[float]], width: int) -> Positions:
    keys = sorted(stored)
    rows = np.array([stored[k] for k in keys], dtype=np.float64).reshape(len(keys), width)
    return Positions(np.array(keys, dtype=np.int64), rows)


async def _silence(conn: AsyncConnection[Any]) -> Silence:
    devices, subjects, off = await store.alerts.live_silences(conn)
    return Silence(frozenset(devices), frozenset(subjects), off=frozenset(off))


@dataclass(frozen=True, slots=True)
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    zones: RunStates = field(default_factory=RunStates.none)
    separation: SeparationStates = field(default_factory=SeparationStates.none)
    last_seen: Times = field(default_factory=Times.none)
    last_fix: Positions = field(default_factory=Positions.none)
    proximity: ProximityState = field(default_factory=ProximityState)
    heading: RunStates = field(default_factory=RunStates.none)
    tracks: Positions = field(default_factory=no_tracks)
    checks: Positions = field(default_factory=no_checks)
    silence: Silence | None = None
    resumed: dict[int, float] = field(default_factory=dict)  # quiet device -> earliest report
    said_off: dict[int, float] = field(default_factory=dict)
    running_low: dict[int, EventReport] = field(default_factory=dict)
    battery_done: set[int] = field(default_factory=set)  # charged, or raised: no longer held
    overdue: dict[int, int | None] = field(default_factory=dict)  # None: back in time
    reminders: list[tuple[int, float, Finding]] = field(default_factory=list)

    async def save(self, conn: AsyncConnection[Any], *, actor: str) -> list[AlertChange]:
        """Write the findings and the state they lead to (inside the caller's transaction).
        A reminder another process already sent is not sent again."""
        await store.rule_state.save_zone_state(conn, self.zones)
        await store.rule_state.save_separation_state(conn, self.separation)
        p = self.proximity
        await store.rule_state.save_proximity_state(conn, p.runs, p.approach)
        await store.rule_state.save_heading_state(conn, self.heading)
        await store.rule_state.save_tracks(conn, self.tracks)
        await store.rule_state.save_checks(conn, self.checks)
        reminders = [
            f
            for order, ends, f in self.reminders
            if await store.orders.mark_reminded(conn, order_id=order, ends=ends)
        ]
        return await notices.record_findings(conn, self.findings + reminders, actor=actor)


class RuleBook:
    def __init__(
        self,
        registry: Registry,
        memory: Memory,
        *,
        watching_since: float,
        suspect: SuspectPolicy | None = None,
    ) -> None:
        self.registry = registry
        self._suspect = SuspectPolicy() if suspect is None else suspect
        self._memory = memory
        self._watching_since = watching_since
        self._ticked_at = watching_since
        self._caught_up_to = -1  # rule state versions up to this one are known

    async def claim(self, conn: AsyncConnection[Any], subjects: Iterable[int]) -> dict[int, int]:
        """Lock these subjects' rule state for the caller's transaction (one process
        decides for a subject at a time) and reload what another process judged since this
        one last did; returns the subjects' new versions, for `apply` after the commit."""
        claimed = await store.rule_state.claim_subjects(conn, sorted(set(subjects)))
        mem = self._memory
        stale = [s for s, (old, _) in claimed.items() if mem.versions.get(s, 0) != old]
        if stale:
            await mem.reload(conn, stale)
            mem.versions.update((s, claimed[s][0]) for s in stale)
        return {s: new for s, (_, new) in claimed.items()}

    async def catch_up(self, conn: AsyncConnection[Any], *, now: float | None = None) -> None:
        """Before the clock rules, under `store.rule_state.lock_rules(conn, alone=True)`:
        reload every subject another process judged since. With `now`: this process has just
        taken the clock rules over; it goes on from the last tick of whichever process ran them
        (unless that is older than `CLOCK_CATCH_UP_S`), with the stored silences."""
        if now is not None:
            self._memory.silence = await _silence(conn)
            ticked = await store.clock.clock_time(conn)
            if ticked is not None and now - CLOCK_CATCH_UP_S <= ticked <= now:
                self._ticked_at = ticked
            self._caught_up_to = -1
        changed = await store.rule_state.rule_versions(conn, above=self._caught_up_to)
        mem = self._memory
        stale = [s for s, v in changed.items() if mem.versions.get(s, 0) != v]
        if stale:
            await mem.reload(conn, stale)
            mem.versions.update((s, changed[s]) for s in stale)
        # Nothing else holds a version now, so none below this one can still appear.
        self._caught_up_to = max(changed.values(), default=self._caught_up_to)

    def subjects_of(self, verdict: Verdict) -> set[int]:
        """The subjects whose remembered state a verdict changes."""
        index = self.registry.index
        keys = np.concatenate([verdict.zones.key, verdict.heading.key])
        owners = index.subject[np.isin(index.assignment, keys)]
        return set(owners.tolist()) | set(verdict.overdue) | set(verdict.separation)

    def judge(self, batch: FixBatch, ev: Evaluation, protected: FixBatch | None = None) -> Verdict:
        """Zone, early warning, separation, proximity and faked-location rules over a batch
        of current fixes of subjects and of protected persons' phones (`protected`, by
        protected person)."""
        reg, mem = self.registry, self._memory
        zone, zone_state = zone_findings(
            batch, ev, mem.zones, policies=reg.policies, curfews=reg.curfews
        )
        apart, separation_state = separation_findings(
            batch,
            np.isin(batch.device, reg.wristbands),
            mem.separation,
            policies=reg.policies,
            paired=reg.paired,
        )
        back = self._back_from_leave(zone)
        toward, heading_state, tracks = heading_findings(
            batch, ev, mem.tracks, mem.heading, index=reg.index, policies=reg.policies
        )
        near: list[Finding] = []
        proximity = ProximityState()
        if len(reg.pairs.id):
            near, proximity, paired = proximity_findings(
                batch,
                batch.take(np.zeros(0, np.int64)) if protected is None else protected,
                mem.proximity,
                mem.tracks,
                pairs=reg.pairs,
                policies=reg.policies,
            )
            tracks = tracks.newer(paired)
        faked, checks = suspect_findings(
            batch, mem.checks, partner=reg.partner, policy=self._suspect
        )
        return Verdict(
            findings=zone + apart + back + toward + near + faked,
            zones=zone_state,
            separation=separation_state,
            proximity=proximity,
            heading=heading_state,
            tracks=tracks,
            checks=checks,
            last_seen=Times.newest(batch.device, batch.time),
            resumed=self._resumed(batch.device, batch.time),
            last_fix=Positions.newest(
                batch.subject,
                np.column_stack([batch.time, batch.lon, batch.lat, batch.accuracy]),
            ),
            overdue=dict.fromkeys((f.subject_id for f in back), None),
        )

    def _back_from_leave(self, zone: list[Finding]) -> list[Finding]:
        """An overdue subject confirmed back inside the district ends the overdue alert's
        condition."""
        overdue, districts = self._memory.overdue, self.registry.districts
        return [
            Finding(
                kind=AlertKind.LEAVE_OVERDUE,
                subject_id=f.subject_id,
                time=f.time,
                message=Text("leave_back"),
                assignment_id=overdue[f.subject_id],
                lon=f.lon,
                lat=f.lat,
                cleared=True,
            )
            for f in zone
            if f.cleared
            and f.kind is AlertKind.ZONE_EXIT
            and f.subject_id in overdue
            and f.assignment_id in districts
        ]

    def hear(self, events: list[EventReport]) -> Verdict:
        """Device status rule over events stored for the first time."""
        # Heard: what the device itself said (not the broker's `offline`), and `no_fix` only
        # from a wristband: a phone always has a network position, so a phone saying it has
        # none would keep itself "heard" while never showing where it is.
        bands = set(self.registry.wristbands.tolist())
        said = [
            e
            for e in events
            if e.event is not DeviceEvent.OFFLINE
            and (e.event is not DeviceEvent.NO_FIX or e.device_id in bands)
        ]
        device = np.array([e.device_id for e in said], dtype=np.int64)
        time = np.array([e.time for e in said], dtype=np.float64)
        low, charged = battery_words(said)
        return Verdict(
            findings=event_findings(events),
            last_seen=Times.newest(device, time),
            resumed=self._resumed(device, time),
            said_off={d: e.time for d, e in switched_off(said).items()},
            running_low=low,
            battery_done=charged,
        )

    def _resumed(
        self, device: Ids, time: np.ndarray[Any, np.dtype[np.float64]]
    ) -> dict[int, float]:
        """Per quiet device, the earliest of these reports measured after it went quiet."""
        since = self._memory.silence.since
        if not since:
            return {}
        after = time > Times.of(since).at(device, np.inf)
        return dict(Times.earliest(device[after], time[after]))

    def tick(self, now: float, *, hold_silence: bool = False) -> Verdict:
        """Rules decided by the clock: silence (of subjects under an order), order
        reminders, curfews that begin and leaves that end. `hold_silence`: a backlog is
        being read; nobody goes silent meanwhile."""
        reg, mem, since = self.registry, self._memory, self._ticked_at
        watched = reg.watched.where(
            reg.orders.covered(reg.watched.subject, np.full(reg.watched.subject.shape[0], now))
        )
        silent, silence = silence_findings(
            now,
            watched,
            mem.last_seen,
            mem.silence,
            policies=reg.policies,
            watching_since=self._watching_since,
            resumed=mem.resumed,
            said_off=mem.said_off.keys(),
            hold=hold_silence,
        )
        low = low_battery_due(now, mem.running_low, policies=reg.policies)
        starting = np.intersect1d(reg.index.starting(since, now), reg.curfews)
        curfew, curfew_state = curfew_start_findings(now, starting, reg.index, mem.last_fix)
        ended = [lv for lv in reg.leaves if since < lv.ends <= now]
        overdue, district_state = leave_end_findings(
            now,
            ended,
            districts=reg.districts,
            destinations=reg.destinations,
            index=reg.index,
            last_fix=mem.last_fix,
        )
        reminders = order_reminders(now, reg.orders, mem.reminded, warn_s=ORDER_WARNING_S)
        return Verdict(
            findings=silent + low + curfew + overdue,
            zones=RunStates.of({**curfew_state, **district_state}),
            silence=silence,
            battery_done={f.device_id for f in low if f.device_id is not None},
            overdue={f.subject_id: f.assignment_id or 0 for f in overdue},
            reminders=[(o.id, o.ends, f) for o, f in reminders],
        )

    def apply(
        self, verdict: Verdict, *, versions: Mapping[int, int], now: float | None = None
    ) -> None:
        """Remember a verdict once it is stored, with the versions `claim` gave its
        subjects; `now`: the tick it came from."""
        mem = self._memory
        mem.versions.update(versions)
        mem.zones = mem.zones.updated(verdict.zones)
        mem.separation = mem.separation.updated(verdict.separation)
        mem.last_seen = mem.last_seen.latest(verdict.last_seen)
        mem.last_fix = mem.last_fix.newer(verdict.last_fix)
        mem.proximity = mem.proximity.updated(verdict.proximity)
        mem.heading = mem.heading.updated(verdict.heading)
        mem.tracks = mem.tracks.newer(verdict.tracks)
        mem.checks = mem.checks.newer(verdict.checks)
        self._remember_words(verdict)
        for device, t in verdict.resumed.items():
            mem.resumed[device] = min(mem.resumed.get(device, t), t)
        if verdict.silence is not None:
            mem.silence = verdict.silence
            mem.resumed = {d: t for d, t in mem.resumed.items() if d in verdict.silence.since}
        for subject, destination in verdict.overdue.items():
            if destination is None:
                mem.overdue.pop(subject, None)
            else:
                mem.overdue[subject] = destination
        mem.reminded.update((order, ends) for order, ends, _ in verdict.reminders)
        if now is not None:
            self._ticked_at = now

    def _remember_words(self, verdict: Verdict) -> None:
        """A power_off holds until the device says anything newer; a low battery until it
        is charged or raised."""
        mem = self._memory
        mem.said_off.update(verdict.said_off)
        for device, off in list(mem.said_off.items()):
            if verdict.last_seen.get(device, off) > off:
                del mem.said_off[device]
        mem.running_low.update(verdict.running_low)
        for device in verdict.battery_done:
            mem.running_low.pop(device, None)


def warm_up() -> None:
    """Compile the rules' kernels now (or load them from numba's cache): the first batch
    after a fresh install otherwise waits seconds for them."""
    two = np.ones(2)
    batch = FixBatch.measured(
        np.ones(2, np.int64), np.arange(2.0), two, two, two, device=np.arange(2, dtype=np.int64)
    )
    separation_findings(
        batch,
        np.array([False, True]),
        SeparationStates.none(),
        policies=Policies.build({}, DEFAULT_LEVELS),
        paired=np.ones(1, np.int64),
    )
    partner = Partners.of({0: 1, 1: 0})
    suspect_findings(batch, no_checks(), partner=partner, policy=SuspectPolicy())
