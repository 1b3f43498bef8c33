"""The pipeline: decode -> admit -> evaluate -> decide -> write -> acknowledge, one micro-batch
at a time, and the clock's turn between batches."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

import store
from alerts import Clock, Memory, Registry, RuleBook, SuspectPolicy, batches
from domain import (
    AlertAction,
    AlertChange,
    EventReport,
    FixBatch,
    LevelPolicy,
    Rejected,
    SupervisionLevel,
)
from geofence import Evaluation, ZoneIndex
from ingest.admission import admit
from ingest.backlog import Backlog
from ingest.batch import to_batch
from ingest.decode import Message, decode_messages, describe
from ingest.wire import EXCERPT_BYTES, Limits, kept

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from domain import Device, Zone

log = logging.getLogger(__name__)

# A batch waiting for the store tries again at least this often: officers learn of an alert
# seconds after the store is back, not a long back-off later.
_RETRY_MAX_S = 5.0

# Batches of more fixes than this are evaluated in a worker thread, so the event loop keeps
# reading MQTT while numpy runs.
_THREAD_THRESHOLD = 2_000


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    limits: Limits
    levels: Mapping[SupervisionLevel, LevelPolicy]
    refresh_s: float
    escalate_after_s: float
    actor: str = "ccmon-ingest"
    backlog_max_s: float = 300.0
    suspect: SuspectPolicy = field(default_factory=SuspectPolicy)


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


@dataclass(frozen=True, slots=True)
class _Write:
    """What one transaction stores; `current`: the fixes judged as current, against
    `evaluation` (None: nothing judged)."""

    batch: FixBatch = field(default_factory=lambda: to_batch([]))
    events: list[EventReport] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    current: FixBatch = field(default_factory=lambda: to_batch([]))
    evaluation: Evaluation | None = None
    protected: FixBatch = field(default_factory=lambda: to_batch([]))  # by protected person
    protected_current: FixBatch = field(default_factory=lambda: to_batch([]))


def _current(batch: FixBatch, retained: np.ndarray[Any, np.dtype[np.bool_]]) -> FixBatch:
    return batch.take(np.flatnonzero(~retained)) if retained.any() else batch


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
        self._zones: dict[int, tuple[int, Zone]] = {}  # by id: (revision, zone)
        self._registry_version = -1
        self._refreshed_at = float("-inf")
        self._turn = asyncio.Lock()
        self._clock = Clock(
            pool,
            levels=config.levels,
            escalate_after_s=config.escalate_after_s,
            actor=config.actor,
        )
        self.stats = PipelineStats()
        self.backlog = Backlog(max_s=config.backlog_max_s)
        self._member = uuid.uuid4().hex  # names this process's backlog in the store
        self._shared_backlog = False  # what the store was last told

    @property
    def owntracks_devices(self) -> Mapping[str, Device]:
        """Registered OwnTracks phones by `user/device`."""
        return self._owntracks

    @property
    def limits(self) -> Limits:
        """What a device message may be (size, times, ranges)."""
        return self._config.limits

    @property
    def leading(self) -> bool:
        """Does this process run the clock rules (one ingest process at a time does)?"""
        return self._clock.leading

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
            version = await store.registry.registry_version(conn)
            if version == self._registry_version:
                self._refreshed_at = time.monotonic()
                return
            devices = await store.devices.load_devices(conn)
            self._zones = await store.zones.load_zones(conn, known=self._zones)
            assignments = await store.assignments.load_assignments(conn)
            levels = await store.subjects.subject_levels(conn)
            orders = await store.orders.load_orders(conn)
            leaves = await store.leaves.load_leaves(conn)
            prohibitions = await store.prohibitions.load_prohibitions(conn)
            memory = None
            if self._rules is None:
                async with conn.transaction():
                    await store.rule_state.lock_rules(conn, alone=True)
                    memory = await Memory.load(conn)
        # Compiling is seconds for thousands of zones: only when something changed, and
        # then only the zones that changed.
        zones = [z for _, z in self._zones.values()]
        before = None if self._rules is None else self.index
        index = await asyncio.to_thread(ZoneIndex.build, zones, assignments, before)
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
            prohibitions=prohibitions,
        )
        if memory is not None:
            self._rules = RuleBook(
                registry, memory, watching_since=time.time(), suspect=self._config.suspect
            )
        else:
            self._rulebook.registry = registry
        self._devices = {d.code: d for d in devices}
        self._owntracks = {d.owntracks_topic: d for d in devices if d.owntracks_topic}
        self._registry_version = version
        self._refreshed_at = time.monotonic()
        # What was just loaded lives until the next change: out of the cyclic garbage
        # collector's sight, which otherwise walks all of it (every zone's coordinates) again
        # and again while the rules allocate their tens of thousands of objects a batch.
        # What the last load froze (the registry just replaced) is let go and collected
        # first, so that no garbage cycle stays frozen for good.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    async def close(self) -> None:
        """Let another process take the clock rules over (and hold nothing for them)."""
        await self._clock.close()
        if self._shared_backlog:
            with contextlib.suppress(psycopg.Error):
                async with self._pool.connection(timeout=2.0) as held:
                    await store.clock.set_backlog(held, member=self._member, for_s=None)

    async def process(self, messages: list[Message]) -> None:
        """Run one micro-batch through every step, then acknowledge it to the broker."""
        if time.monotonic() - self._refreshed_at >= self._config.refresh_s:
            try:
                await self.refresh()
            except psycopg.OperationalError as exc:
                # The store is away: go on with the registry as it was; the write below
                # waits for the store to come back.
                log.warning("registry not refreshed (%s)", exc)
            except Exception:
                # What an officer registered must not stop monitoring either.
                log.exception("registry not refreshed; going on with the one before")
        devices = [m for m in messages if not m.marker]
        self.stats.received += len(devices)
        self.stats.batches += 1
        async with self._turn:
            await self._isolating(devices)
        _acknowledge(messages)
        # From the batch's oldest message reaching ccmon to its batch being committed.
        if devices:
            self.stats.observe_latency(time.time() - min(m.received for m in devices))

    async def _isolating(self, messages: list[Message]) -> None:
        """Store and judge the messages together; if a step fails for them (not the store
        being away: that is waited for), split them and try each half, so the messages
        that caused it go to quarantine and the rest are stored and judged as ever."""
        if not messages:
            return
        try:
            await self._run(messages)
        except Exception as exc:
            if len(messages) > 1:
                half = len(messages) // 2
                await self._isolating(messages[:half])
                await self._isolating(messages[half:])
                return
            log.warning("a message failed the pipeline; quarantined: %s", describe(exc))
            await self._quarantine_last(messages[0], f"pipeline error: {describe(exc)}")

    async def _run(self, messages: list[Message]) -> None:
        decoded = decode_messages(
            messages,
            devices=self._devices,
            owntracks=self._owntracks,
            limits=self._config.limits,
        )
        registry = self._rulebook.registry
        got = admit(decoded, messages, registry.orders, registry.pairs)
        # Replayed (retained) messages are stored but not judged as current.
        replayed = np.array([m.retained for m in messages], dtype=np.bool_)
        retained = replayed[got.origin]
        current = _current(got.batch, retained[: len(got.batch)])
        evaluation = await self._evaluate(current)
        await self._write_with_retry(
            _Write(
                got.batch,
                got.events,
                decoded.rejected,
                current,
                evaluation,
                got.protected,
                _current(got.protected, retained[len(got.batch) :]),
            )
        )

    async def _quarantine_last(self, message: Message, reason: str) -> None:
        """The one message a step fails for, kept with the reason (the store makes any
        text storable); should even that be refused, the log keeps its first bytes."""
        rejected = Rejected(message.topic, kept(message.payload, self.limits), reason)
        try:
            await self._write_with_retry(_Write(rejected=[rejected]))
        except Exception as exc:
            log.error(
                "quarantine refused a message on %r (%s; %s): %r",
                message.topic[:200],
                reason,
                describe(exc),
                message.payload[:EXCERPT_BYTES],
            )

    async def tick(self, now: float) -> None:
        """The clock's rules, in the one process leading them; the others only try to lead.
        Between batches, never during one."""
        async with self._turn:
            await self._share_backlog()
            self._count(await self._clock.tick(self._rulebook, now))

    async def _share_backlog(self) -> None:
        """Tell the store (and so the clock rules, in whichever process) whether this
        process is reading a backlog."""
        reading = self.backlog.reading
        if reading == self._shared_backlog:
            return
        try:
            async with self._pool.connection() as conn:
                await store.clock.set_backlog(
                    conn, member=self._member, for_s=self.backlog.left_s if reading else None
                )
            self._shared_backlog = reading
        except psycopg.OperationalError as exc:
            log.warning("store unavailable (%s); backlog state not shared", exc)

    async def _evaluate(self, batch: FixBatch) -> Evaluation:
        if len(batch) < _THREAD_THRESHOLD:
            return self.index.evaluate(batch)
        return await asyncio.to_thread(self.index.evaluate, batch)

    async def _write_with_retry(self, write: _Write) -> None:
        """Retry while the database is unreachable: the batch stays in memory meanwhile and
        the bounded queue upstream pushes back on the MQTT reader (and the broker holds the
        rest: a backlog, read once the store is back)."""
        delay, waited = 0.5, False
        while True:
            try:
                await self._write(write)
                if waited:
                    self.backlog.begin()
                return
            except psycopg.errors.ProgramLimitExceeded:
                raise  # the input's doing (an operational error by class): not retried
            except psycopg.OperationalError as exc:
                log.warning("store unavailable (%s); retrying in %.1f s", exc, delay)
                waited = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    async def _write(self, write: _Write) -> None:
        """One transaction: fixes, events, quarantine, and what the rules make of them,
        decided while the batch's subjects are locked (another ingest process waits)."""
        config, batch = self._config, write.batch
        pairs = self._rulebook.registry.pairs
        subjects = {e.subject_id for e in write.events} | set(batch.subject.tolist())
        # A pair's state is its two parties': whichever side reports, both are held.
        subjects |= pairs.subjects_of(batch.subject) | pairs.subjects_of(-write.protected.subject)
        async with self._pool.connection() as conn, conn.transaction():
            turn = await batches.take(
                conn, self._rulebook, subjects, levels=config.levels, actor=config.actor
            )
            stored = await store.fixes.copy_fixes(conn, batch) if len(batch) else 0
            stored += await store.prohibitions.copy_protected_fixes(conn, write.protected)
            new_events = await store.events.insert_events(conn, write.events)
            await store.quarantine.quarantine(conn, write.rejected)
            decided = await turn.decide(
                new_events, write.current, write.evaluation, write.protected_current
            )
        decided.apply()
        self.stats.stored += stored
        self.stats.duplicates += len(batch) + len(write.protected) - stored
        self.stats.events += len(new_events)
        self.stats.quarantined += len(write.rejected)
        self._count(decided.changes)

    def _count(self, changes: list[AlertChange]) -> None:
        self.stats.alert_changes += len(changes)
        for c in changes:
            if c.action is AlertAction.OPENED:
                self.stats.alerts_opened += 1
            log.info(
                "alert %d %s: %s (%s), subject %d",
                c.alert_id,
                c.action,
                c.kind,
                c.severity,
                c.subject_id,
            )
