"""The pipeline loop: decode -> batch -> geofence -> rules -> store, one micro-batch at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

import store
from alerts import ZoneState, zone_alerts
from geofence import ZoneIndex
from ingest.batch import to_batch
from ingest.errors import RejectedInputError
from ingest.owntracks import decode_owntracks
from ingest.status import decode_status
from ingest.wire import DecodedFix, Limits, decode_fixes

if TYPE_CHECKING:
    from collections.abc import Mapping

    from psycopg_pool import AsyncConnectionPool

    from domain import Device, FixBatch, NewAlert
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


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    limits: Limits
    confirm_fixes: int
    refresh_s: float
    actor: str = "ccmon-ingest"


@dataclass(slots=True)
class PipelineStats:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    events: int = 0
    alerts_opened: int = 0
    batches: int = 0


@dataclass(slots=True)
class _Decoded:
    fixes: list[DecodedFix] = field(default_factory=list)
    retained: list[bool] = field(default_factory=list)
    events: list[store.NewEvent] = field(default_factory=list)
    rejected: list[store.Rejected] = field(default_factory=list)


class Pipeline:
    """Holds what a restart can rebuild: the device registry, the zone index, rule state."""

    def __init__(self, pool: AsyncConnectionPool[Any], config: PipelineConfig) -> None:
        self._pool = pool
        self._config = config
        self._devices: dict[str, Device] = {}
        self._owntracks: dict[str, Device] = {}
        self._index = ZoneIndex.build([], [])
        self._registry_version = -1
        self._state: dict[int, ZoneState] = {}
        self._refreshed_at = float("-inf")
        self.stats = PipelineStats()

    @property
    def owntracks_devices(self) -> Mapping[str, Device]:
        """Registered OwnTracks phones by `user/device`."""
        return self._owntracks

    @property
    def index(self) -> ZoneIndex:
        """The zone index in use; replaced whole when zones or assignments change."""
        return self._index

    async def refresh(self) -> None:
        """Reload devices, zones and assignments when they changed (one cheap version read
        otherwise), and which alerts are live (officers close them)."""
        async with self._pool.connection() as conn:
            version = await store.registry_version(conn)
            changed = version != self._registry_version
            if changed:
                devices = await store.load_devices(conn)
                zones = await store.load_zones(conn)
                assignments = await store.load_assignments(conn)
            live = await store.live_alert_assignments(conn)
        if changed:
            # Compiling is seconds for thousands of zones: only when something changed.
            index = await asyncio.to_thread(ZoneIndex.build, zones, assignments)
            for problem in set(index.problems) - set(self._index.problems):
                log.warning("%s", problem)
            self._index = index
            self._devices = {d.code: d for d in devices}
            self._owntracks = {d.owntracks_topic: d for d in devices if d.owntracks_topic}
            self._registry_version = version
        state = {a: replace(s, alert_open=a in live) for a, s in self._state.items()}
        for a in live - state.keys():
            state[a] = ZoneState(alert_open=True)
        self._state = state
        self._refreshed_at = time.monotonic()

    async def process(self, messages: list[Message]) -> None:
        """Run one micro-batch through every step; a failing step quarantines, never drops."""
        if time.monotonic() - self._refreshed_at >= self._config.refresh_s:
            await self.refresh()
        self.stats.received += len(messages)
        self.stats.batches += 1
        decoded = self._decode(messages)
        try:
            batch = to_batch(decoded.fixes)
            # Replayed (retained) messages are stored but not judged as current.
            current = (
                batch.take(np.flatnonzero(~np.array(decoded.retained, dtype=np.bool_)))
                if any(decoded.retained)
                else batch
            )
            ev = await self._evaluate(current)
            alerts, new_state = zone_alerts(
                current, ev, self._state, confirm_fixes=self._config.confirm_fixes
            )
        except Exception as exc:
            log.exception("pipeline step failed; quarantining the batch")
            await self._write_with_retry(None, [], self._as_rejected(messages, exc), [])
            return
        await self._write_with_retry(batch, decoded.events, decoded.rejected, alerts)
        self._state.update(new_state)

    def _decode(self, messages: list[Message]) -> _Decoded:
        out = _Decoded()
        for m in messages:
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
            out.retained.extend([m.retained] * len(got.fixes))
            out.events.extend(got.events)
            out.rejected.extend(store.Rejected(m.topic, i.raw, i.reason) for i in got.rejected)
        return out

    async def _evaluate(self, batch: FixBatch) -> Evaluation:
        if len(batch) < _THREAD_THRESHOLD:
            return self._index.evaluate(batch)
        return await asyncio.to_thread(self._index.evaluate, batch)

    @staticmethod
    def _as_rejected(messages: list[Message], exc: Exception) -> list[store.Rejected]:
        return [store.Rejected(m.topic, m.payload, f"pipeline error: {exc!r}") for m in messages]

    async def _write_with_retry(
        self,
        batch: FixBatch | None,
        events: list[store.NewEvent],
        rejected: list[store.Rejected],
        alerts: list[NewAlert],
    ) -> None:
        """Retry while the database is unreachable: the batch stays in memory meanwhile and
        the bounded queue upstream pushes back on the MQTT reader."""
        delay = 0.5
        while True:
            try:
                await self._write(batch, events, rejected, alerts)
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
        alerts: list[NewAlert],
    ) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            stored = await store.copy_fixes(conn, batch) if batch is not None and len(batch) else 0
            self.stats.events += await store.insert_events(conn, events)
            await store.quarantine(conn, rejected)
            opened = await store.open_alerts(conn, alerts, actor=self._config.actor)
        self.stats.stored += stored
        self.stats.duplicates += (len(batch) if batch is not None else 0) - stored
        self.stats.quarantined += len(rejected)
        self.stats.alerts_opened += len(opened)
        for alert_id in opened:
            log.info("alert %d opened", alert_id)
