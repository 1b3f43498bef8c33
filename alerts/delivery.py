"""The delivery worker: claims due outbox rows, hands each to its channel (webhook, SMS),
records the outcome; retries with exponential back-off and jitter up to a maximum age, then
leaves a dead letter.

Crash safety comes from the outbox: a claimed row is leased, not taken; a worker killed
mid-delivery leaves it due again when the lease runs out, and it is sent again with the same
event and delivery ids, which receivers use to drop the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import psycopg

import store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: delivered, or an error that is (or is not) worth retrying."""

    ok: bool
    retry: bool = False
    error: str | None = None


DELIVERED = Outcome(ok=True)


class Channel(Protocol):
    async def send(self, delivery: store.outbox.Delivery) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    concurrency: int = 64  # deliveries in flight at once
    per_subscription: int = 6  # in flight to one webhook receiver at once
    lease_s: float = 60.0  # longer than any attempt may take
    poll_s: float = 0.1
    retry_base_s: float = 1.0
    retry_max_s: float = 300.0
    max_age_s: float = 86400.0  # then a dead letter
    sms_per_phone: int = 5  # texts to one number ...
    sms_window_s: float = 600.0  # ... within this long


def retry_delay(attempts: int, config: DeliveryConfig, rng: random.Random) -> float:
    """Exponential back-off with jitter: base * 2^attempts, capped, then a random share
    between half and all of it, so a receiver coming back is not hit by every retry at once."""
    ceiling = min(config.retry_max_s, config.retry_base_s * 2.0 ** min(attempts, 30))
    return ceiling * (0.5 + 0.5 * rng.random())


class DeliveryWorker:
    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        channels: Mapping[str, Channel],
        config: DeliveryConfig,
    ) -> None:
        self._pool = pool
        self._channels = channels
        self._config = config
        self._rng = random.Random()
        self._per_subscription: dict[int, int] = {}
        self._phone_locks: dict[str, asyncio.Lock] = {}
        self._done: list[tuple[store.outbox.Delivery, Outcome | str]] = []

    async def run(self) -> None:
        """Deliver until cancelled."""
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                claimed = await self._claim(self._config.concurrency - len(running))
                for d in claimed:
                    if d.subscription_id is not None:
                        self._per_subscription[d.subscription_id] = (
                            self._per_subscription.get(d.subscription_id, 0) + 1
                        )
                    running.add(asyncio.create_task(self._deliver(d)))
                if running and (not claimed or len(running) >= self._config.concurrency):
                    done, running = await asyncio.wait(
                        running, timeout=self._config.poll_s, return_when=asyncio.FIRST_COMPLETED
                    )
                    for t in done:
                        t.result()
                elif not claimed:
                    await asyncio.sleep(self._config.poll_s)
                try:
                    await self._flush()
                except psycopg.OperationalError as exc:
                    log.warning("delivery outcomes not written yet (%s)", exc)
        finally:
            for t in running:
                t.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            with contextlib.suppress(psycopg.Error):
                await self._flush()  # what is not written stays leased: it goes out again

    async def _claim(self, room: int) -> list[store.outbox.Delivery]:
        if room <= 0:
            return []
        busy = [s for s, n in self._per_subscription.items() if n >= self._config.per_subscription]
        try:
            async with self._pool.connection() as conn, conn.transaction():
                return await store.outbox.claim_deliveries(
                    conn, limit=room, lease_s=self._config.lease_s, busy=busy
                )
        except psycopg.OperationalError as exc:
            log.warning("store unavailable for delivery (%s)", exc)
            await asyncio.sleep(1.0)
            return []

    async def _deliver(self, d: store.outbox.Delivery) -> None:
        """Send one delivery; its outcome is written with the others by `_flush` (texts at
        once, so the rate limit counts every one sent)."""
        if d.channel == "sms" and d.phone is not None:
            async with self._phone_locks.setdefault(d.phone, asyncio.Lock()):
                outcome = await self._text(d, d.phone)
                self._done.append((d, outcome))
                with contextlib.suppress(psycopg.OperationalError):
                    await self._flush()
            return
        try:
            outcome = await self._send(d)
        finally:
            if d.subscription_id is not None:
                self._per_subscription[d.subscription_id] -= 1
        # Appended only after the await: `_flush` swaps the list meanwhile.
        self._done.append((d, outcome))

    async def _text(self, d: store.outbox.Delivery, phone: str) -> Outcome | str:
        """The channel's outcome, or the reason the text is held back."""
        async with self._pool.connection() as conn:
            sent = await store.outbox.texts_sent(
                conn, phone=phone, within_s=self._config.sms_window_s
            )
        if sent >= self._config.sms_per_phone:
            return (
                f"rate limit: {sent} texts to this number in the last"
                f" {self._config.sms_window_s / 60:.0f} min"
            )
        return await self._send(d)

    async def _send(self, d: store.outbox.Delivery) -> Outcome | str:
        channel = self._channels.get(d.channel)
        if channel is None:
            return f"no {d.channel} channel configured"
        return await channel.send(d)

    async def _flush(self) -> None:
        """Write every outcome gathered since the last flush in one transaction; if that
        fails they stay to be written next time (and their rows stay leased meanwhile)."""
        if not self._done:
            return
        done, self._done = self._done, []
        delivered, retry, dead, held = [], [], [], []
        for d, outcome in done:
            if isinstance(outcome, str):
                held.append((d.id, outcome))
            elif outcome.ok:
                delivered.append(d.id)
            else:
                delay = retry_delay(d.attempts, self._config, self._rng)
                age = time.time() - d.created_at.timestamp()
                error = outcome.error or "failed"
                if not outcome.retry or age + delay > self._config.max_age_s:
                    log.warning("delivery %d is a dead letter: %s", d.id, error)
                    dead.append((d.id, error))
                else:
                    retry.append((d.id, error, delay))
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await store.outbox.record_outcomes(
                    conn, delivered=delivered, retry=retry, dead=dead
                )
                for outbox_id, reason in held:
                    await store.outbox.suppress(conn, outbox_id=outbox_id, reason=reason)
        except psycopg.Error:
            self._done = done + self._done
            raise
