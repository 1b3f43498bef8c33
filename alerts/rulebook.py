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
from alerts.curfew import curfew_start_findings
from alerts.policy import Policies
from alerts.separation import separation_findings
from alerts.silence import Silence, Watched, silence_findings
from alerts.status import status_findings
from alerts.zones import zone_findings
from domain import (
    DeviceEvent,
    DeviceKind,
    Finding,
    Ids,
    LastFix,
    RunState,
    SeparationState,
    ZoneRole,
)
from geofence import ZoneIndex

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from psycopg import AsyncConnection

    from domain import (
        Assignment,
        Device,
        FixBatch,
        LevelPolicy,
        SupervisionLevel,
    )
    from geofence import Evaluation


@dataclass(frozen=True, slots=True)
class Registry:
    """What the rules know of subjects, devices and zones; rebuilt when those change."""

    index: ZoneIndex
    policies: Policies
    curfews: Ids  # sorted assignment ids: inclusion zones on weekly windows (home at night)
    paired: Ids  # sorted subject ids carrying both a phone and a wristband
    wristbands: Ids  # sorted device ids
    watched: Watched

    @classmethod
    def build(
        cls,
        index: ZoneIndex,
        *,
        devices: Iterable[Device],
        assignments: Iterable[Assignment],
        levels: Mapping[int, SupervisionLevel],
        policy: Mapping[SupervisionLevel, LevelPolicy],
    ) -> Registry:
        bound = [d for d in devices if d.active and d.subject_id is not None]
        kinds: dict[int, set[DeviceKind]] = {}
        for d in bound:
            kinds.setdefault(d.subject_id or 0, set()).add(d.kind)

        def ids(values: Iterable[int]) -> Ids:
            return np.array(sorted(values), dtype=np.int64)

        return cls(
            index=index,
            policies=Policies.build(levels, policy),
            curfews=ids(
                a.id for a in assignments if a.role is ZoneRole.INCLUSION and a.schedule.weekly
            ),
            paired=ids(s for s, k in kinds.items() if len(k) == len(DeviceKind)),
            wristbands=ids(d.id for d in bound if d.kind is DeviceKind.WRISTBAND),
            watched=Watched(
                device=np.array([d.id for d in bound], dtype=np.int64),
                subject=np.array([d.subject_id for d in bound], dtype=np.int64),
                wristband=np.array([d.kind is DeviceKind.WRISTBAND for d in bound], np.bool_),
            ),
        )


@dataclass(slots=True)
class Memory:
    """What the rules remember; the run states are stored, the rest is rebuilt from fixes,
    events and live alerts."""

    zones: dict[int, RunState] = field(default_factory=dict)
    separation: dict[int, SeparationState] = field(default_factory=dict)
    last_seen: dict[int, float] = field(default_factory=dict)  # device -> newest report
    last_fix: dict[int, LastFix] = field(default_factory=dict)  # subject -> newest fix
    silence: Silence = field(default_factory=Silence)

    @classmethod
    async def load(cls, conn: AsyncConnection[Any]) -> Memory:
        devices, subjects = await store.live_silences(conn)
        return cls(
            zones=await store.load_zone_state(conn),
            separation=await store.load_separation_state(conn),
            last_seen=await store.last_reports(conn),
            last_fix=await store.last_positions(conn),
            silence=Silence(frozenset(devices), frozenset(subjects)),
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    zones: dict[int, RunState] = field(default_factory=dict)
    separation: dict[int, SeparationState] = field(default_factory=dict)
    last_seen: dict[int, float] = field(default_factory=dict)
    last_fix: dict[int, LastFix] = field(default_factory=dict)
    silence: Silence | None = None

    async def save(self, conn: AsyncConnection[Any], *, actor: str) -> list[store.AlertChange]:
        """Write the findings and the state they lead to (inside the caller's transaction)."""
        await store.save_zone_state(conn, self.zones)
        await store.save_separation_state(conn, self.separation)
        return await store.record_findings(conn, self.findings, actor=actor)


class RuleBook:
    def __init__(self, registry: Registry, memory: Memory, *, watching_since: float) -> None:
        self.registry = registry
        self._memory = memory
        self._watching_since = watching_since
        self._ticked_at = watching_since

    def judge(self, batch: FixBatch, ev: Evaluation) -> Verdict:
        """Zone and separation rules over a batch of current fixes."""
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
        return Verdict(
            findings=zone + apart,
            zones=zone_state,
            separation=separation_state,
            last_seen=_newest_per(batch.device, batch.time),
            last_fix=_last_fixes(batch),
        )

    def hear(self, events: list[store.NewEvent]) -> Verdict:
        """Device status rule over events stored for the first time."""
        heard: dict[int, float] = {}
        for e in events:
            if e.event is not DeviceEvent.OFFLINE:  # the broker's word, not the device's
                heard[e.device_id] = max(heard.get(e.device_id, e.time), e.time)
        return Verdict(findings=status_findings(events), last_seen=heard)

    def tick(self, now: float) -> Verdict:
        """Rules decided by the clock: silence, and curfews whose window just opened."""
        reg, mem = self.registry, self._memory
        silent, silence = silence_findings(
            now,
            reg.watched,
            mem.last_seen,
            mem.silence,
            policies=reg.policies,
            watching_since=self._watching_since,
        )
        starting = np.intersect1d(reg.index.starting(self._ticked_at, now), reg.curfews)
        curfew, zone_state = curfew_start_findings(now, starting, reg.index, mem.last_fix)
        return Verdict(findings=silent + curfew, zones=zone_state, silence=silence)

    def apply(self, verdict: Verdict, *, now: float | None = None) -> None:
        """Remember a verdict once it is stored; `now`: the tick it came from."""
        mem = self._memory
        mem.zones.update(verdict.zones)
        mem.separation.update(verdict.separation)
        for device, t in verdict.last_seen.items():
            mem.last_seen[device] = max(mem.last_seen.get(device, t), t)
        for subject, fix in verdict.last_fix.items():
            old = mem.last_fix.get(subject)
            if old is None or fix.time > old.time:
                mem.last_fix[subject] = fix
        if verdict.silence is not None:
            mem.silence = verdict.silence
        if now is not None:
            self._ticked_at = now


def _newest_per(key: Ids, time: np.ndarray[Any, np.dtype[np.float64]]) -> dict[int, float]:
    if key.shape[0] == 0:
        return {}
    order = np.lexsort((time, key))
    k, t = key[order], time[order]
    last = np.append(k[1:] != k[:-1], True)
    return dict(zip(k[last].tolist(), t[last].tolist(), strict=True))


def _last_fixes(batch: FixBatch) -> dict[int, LastFix]:
    if len(batch) == 0:
        return {}
    order = np.lexsort((batch.time, batch.subject))
    s = batch.subject[order]
    rows = order[np.append(s[1:] != s[:-1], True)]
    return {
        int(batch.subject[r]): LastFix(
            float(batch.time[r]),
            float(batch.lon[r]),
            float(batch.lat[r]),
            float(batch.accuracy[r]),
        )
        for r in rows.tolist()
    }
