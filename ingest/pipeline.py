"""The pipeline loop: decode -> batch -> geofence -> rules -> store, one micro-batch at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

import store
from alerts import Memory, Registry, RuleBook, Verdict
from domain import LevelPolicy, SupervisionLevel
from geofence import ZoneIndex
from ingest.batch import to_batch
from ingest.errors import RejectedInputError
from ingest.owntracks import decode_owntracks
from ingest.status import decode_status
from ingest.wire import DecodedFix, Limits, decode_fixes

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from domain import Device, FixBatch
    from geofence import Evaluation

log = logging.getLogger(__name__)

# Batches of more fixes than this are evaluated in a worker thread, so the event loop keeps
# reading MQTT while numpy runs.
_THREAD_THRESHOLD = 2_000


@dataclass(frozen=True, slots=True)
class Message:
    """A message as the broker delivered it. `retained`: the broker's stored last message,
    replayed on subscribe: possibly old news, so it is stored but not judged as current."""

    topic: str
    payload: bytes
    received: float
    retained: bool = False
    # Tells the broker the message is safe (MQTT PUBACK): called only once it is stored or
    # quarantined, so a crash before that has the broker deliver it again.
    ack: Callable[[], object] | None = None


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    limits: Limits
    levels: Mapping[SupervisionLevel, LevelPolicy]
    refresh_s: float
    escalate_after_s: float
    actor: str = "ccmon-ingest"


@dataclass(slots=True)
class PipelineStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    events: int = 0
    alerts_opened: int = 0
    alert_changes: int = 0  # opened, repeated, cleared, escalated
    batches: int = 0
    latency_sum_s: float = 0.0  # received -> committed, over all batches
    latency_max_s: float = 0.0  # the worst batch since start

    def observe_latency(self, seconds: float) -> None:
        self.latency_sum_s += seconds
        self.latency_max_s = max(self.latency_max_s, seconds)


@dataclass(slots=True)
class _Decoded:
    """Decoded messages; `origin[i]` is the message fix i came from."""

    fixes: list[DecodedFix] = field(default_factory=list)
    origin: list[int] = field(default_factory=list)
    events: list[store.NewEvent] = field(default_factory=list)
    event_origin: list[int] = field(default_factory=list)
    rejected: list[store.Rejected] = field(default_factory=list)


def _acknowledge(messages: list[Message]) -> None:
    for m in messages:
        if m.ack is not None:
            m.ack()


class Pipeline:
    """Holds what a restart can rebuild: the device registry, the zone index, rule memory.

    Batches and clock ticks take turns (one lock), so each decides from the state the other
    left and rule state is never written twice at once.
    """

    def __init__(self, pool: AsyncConnectionPool[Any], config: PipelineConfig) -> None:
        self._pool = pool
        self._config = config
        self._devices: dict[str, Device] = {}
        self._owntracks: dict[str, Device] = {}
        self._rules: RuleBook | None = None
        self._registry_version = -1
        self._refreshed_at = float("-inf")
        self._turn = asyncio.Lock()
        self.stats = PipelineStats()

    @property
    def owntracks_devices(self) -> Mapping[str, Device]:
        """Registered OwnTracks phones by `user/device`."""
        return self._owntracks

    @property
    def index(self) -> ZoneIndex:
        """The zone index in use; replaced whole when zones or assignments change."""
        return self._rulebook.registry.index

    @property
    def _rulebook(self) -> RuleBook:
        if self._rules is None:
            raise RuntimeError("refresh() the pipeline before use")
        return self._rules

    async def refresh(self) -> None:
        """Reload devices, zones, assignments and levels when they changed (one cheap
        version read otherwise); on the first call, what the rules remember."""
        async with self._pool.connection() as conn:
            version = await store.registry_version(conn)
            if version == self._registry_version:
                self._refreshed_at = time.monotonic()
                return
            devices = await store.load_devices(conn)
            zones = await store.load_zones(conn)
            assignments = await store.load_assignments(conn)
            levels = await store.subject_levels(conn)
            orders = await store.load_orders(conn)
            leaves = await store.load_leaves(conn)
            memory = await Memory.load(conn) if self._rules is None else None
        # Compiling is seconds for thousands of zones: only when something changed.
        index = await asyncio.to_thread(ZoneIndex.build, zones, assignments)
        old = set() if self._rules is None else set(self.index.problems)
        for problem in set(index.problems) - old:
            log.warning("%s", problem)
        registry = Registry.build(
            index,
            devices=devices,
            assignments=assignments,
            orders=orders,
            leaves=leaves,
            levels=levels,
            policy=self._config.levels,
        )
        if memory is not None:
            self._rules = RuleBook(registry, memory, watching_since=time.time())
        else:
            self._rulebook.registry = registry
        self._devices = {d.code: d for d in devices}
        self._owntracks = {d.owntracks_topic: d for d in devices if d.owntracks_topic}
        self._registry_version = version
        self._refreshed_at = time.monotonic()

    async def process(self, messages: list[Message]) -> None:
        """Run one micro-batch through every step; a failing step quarantines, never drops."""
        if time.monotonic() - self._refreshed_at >= self._config.refresh_s:
            try:
                await self.refresh()
            except psycopg.OperationalError as exc:
                # The store is away: go on with the registry as it was; the write below
                # waits for the store to come back.
                log.warning("registry not refreshed (%s)", exc)
        self.stats.received += len(messages)
        self.stats.batches += 1
        decoded = self._decode(messages)
        async with self._turn:
            try:
                batch, events = self._under_orders(decoded, messages)
                # Replayed (retained) messages are stored but not judged as current.
                replayed = np.array([m.retained for m in messages], dtype=np.bool_)
                retained = replayed[np.array(decoded.origin, dtype=np.int64)]
                current = batch.take(np.flatnonzero(~retained)) if retained.any() else batch
                verdict = self._rulebook.judge(current, await self._evaluate(current))
            except Exception as exc:
                log.exception("pipeline step failed; quarantining the batch")
                await self._write_with_retry(None, [], self._as_rejected(messages, exc), None)
                _acknowledge(messages)
                return
            try:
                await self._write_with_retry(batch, events, decoded.rejected, verdict)
            except psycopg.Error as exc:
                # Not the database being away (that is retried) but a write it refuses:
                # keep the messages, with the reason, and go on with the next batch.
                log.exception("storing the batch failed; quarantining it")
                await self._write_with_retry(None, [], self._as_rejected(messages, exc), None)
        _acknowledge(messages)
        # From the batch's oldest message reaching ccmon to its batch being committed.
        self.stats.observe_latency(time.time() - min(m.received for m in messages))

    async def tick(self, now: float) -> None:
        """The clock's rules (silence, curfew start) and escalation of unacknowledged
        critical alerts."""
        async with self._turn:
            verdict = self._rulebook.tick(now)
            while True:
                try:
                    async with self._pool.connection() as conn, conn.transaction():
                        changes = await verdict.save(conn, actor=self._config.actor)
                        changes += await store.escalate_unacknowledged(
                            conn, after_s=self._config.escalate_after_s, actor=self._config.actor
                        )
                    break
                except psycopg.OperationalError as exc:
                    log.warning("store unavailable (%s); clock rules wait", exc)
                    await asyncio.sleep(1.0)
            self._rulebook.apply(verdict, now=now)
            self._count(changes)

    def _decode(self, messages: list[Message]) -> _Decoded:
        out = _Decoded()
        for i, m in enumerate(messages):
            owntracks = m.topic.startswith("owntracks/")
            if owntracks:
                decode = decode_owntracks
            else:
                decode = decode_status if m.topic.endswith("/status") else decode_fixes
            try:
                got = decode(
                    m.topic,
                    m.payload,
                    received=m.received,
                    devices=self._owntracks if owntracks else self._devices,
                    limits=self._config.limits,
                )
            except RejectedInputError as exc:
                out.rejected.append(store.Rejected(m.topic, m.payload, str(exc)))
                continue
            out.fixes.extend(got.fixes)
            out.origin.extend([i] * len(got.fixes))
            out.events.extend(got.events)
            out.event_origin.extend([i] * len(got.events))
            out.rejected.extend(store.Rejected(m.topic, i.raw, i.reason) for i in got.rejected)
        return out

    def _under_orders(
        self, decoded: _Decoded, messages: list[Message]
    ) -> tuple[FixBatch, list[store.NewEvent]]:
        """The batch and events of subjects under an active monitoring order at their time.
        The rest is not stored (Art. 29): its messages go to quarantine with the reason, and
        `decoded` keeps only what is covered."""
        batch = to_batch(decoded.fixes)
        covered = self._rulebook.under_order(batch.subject, batch.time)
        event_covered = self._rulebook.under_order(
            np.array([e.subject_id for e in decoded.events], dtype=np.int64),
            np.array([e.time for e in decoded.events], dtype=np.float64),
        )
        refused: dict[int, tuple[int, float]] = {}
        for row in np.flatnonzero(~covered).tolist():
            refused.setdefault(
                decoded.origin[row], (int(batch.subject[row]), float(batch.time[row]))
            )
        for row in np.flatnonzero(~event_covered).tolist():
            e = decoded.events[row]
            refused.setdefault(decoded.event_origin[row], (e.subject_id, e.time))
        for i, (subject, t) in sorted(refused.items()):
            m = messages[i]
            when = datetime.fromtimestamp(t, UTC).isoformat()
            reason = f"no active order: subject {subject} is not under monitoring at {when}"
            decoded.rejected.append(store.Rejected(m.topic, m.payload, reason))
        if not refused:
            return batch, decoded.events
        keep = np.flatnonzero(covered)
        decoded.origin = [decoded.origin[k] for k in keep.tolist()]
        events = [e for e, ok in zip(decoded.events, event_covered.tolist(), strict=True) if ok]
        return batch.take(keep), events

    async def _evaluate(self, batch: FixBatch) -> Evaluation:
        if len(batch) < _THREAD_THRESHOLD:
            return self.index.evaluate(batch)
        return await asyncio.to_thread(self.index.evaluate, batch)

    @staticmethod
    def _as_rejected(messages: list[Message], exc: Exception) -> list[store.Rejected]:
        return [store.Rejected(m.topic, m.payload, f"pipeline error: {exc!r}") for m in messages]

    async def _write_with_retry(
        self,
        batch: FixBatch | None,
        events: list[store.NewEvent],
        rejected: list[store.Rejected],
        verdict: Verdict | None,
    ) -> None:
        """Retry while the database is unreachable: the batch stays in memory meanwhile and
        the bounded queue upstream pushes back on the MQTT reader."""
        delay = 0.5
        while True:
            try:
                await self._write(batch, events, rejected, verdict)
                return
            except psycopg.OperationalError as exc:
                log.warning("store unavailable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _write(
        self,
        batch: FixBatch | None,
        events: list[store.NewEvent],
        rejected: list[store.Rejected],
        verdict: Verdict | None,
    ) -> None:
        """One transaction: fixes, events, quarantine, and what the rules made of them."""
        actor = self._config.actor
        async with self._pool.connection() as conn, conn.transaction():
            stored = await store.copy_fixes(conn, batch) if batch is not None and len(batch) else 0
            new_events = await store.insert_events(conn, events)
            await store.quarantine(conn, rejected)
            heard = self._rulebook.hear(new_events)
            changes = await heard.save(conn, actor=actor)
            if verdict is not None:
                changes += await verdict.save(conn, actor=actor)
        self._rulebook.apply(heard)
        if verdict is not None:
            self._rulebook.apply(verdict)
        self.stats.stored += stored
        self.stats.duplicates += (len(batch) if batch is not None else 0) - stored
        self.stats.events += len(new_events)
        self.stats.quarantined += len(rejected)
        self._count(changes)

    def _count(self, changes: list[store.AlertChange]) -> None:
        self.stats.alert_changes += len(changes)
        for c in changes:
            if c.action == "opened":
                self.stats.alerts_opened += 1
            log.info("alert %d %s", c.alert_id, c.action)
