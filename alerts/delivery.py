"""The delivery worker: claims due outbox rows, hands each to its channel (webhook, SMS),
records the outcome; retries with exponential back-off and jitter up to a maximum age, then
leaves a dead letter.

Crash safety comes from the outbox: a claimed row is leased, not taken; a worker killed
mid-delivery leaves it due again when the lease runs out, and it is sent again with the same
event and delivery ids, which receivers use to drop the duplicate.
"""

from __future__ import annotations

import asyncio
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
    async def send(self, delivery: store.Delivery) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    concurrency: int = 64  # deliveries in flight at once
    per_subscription: int = 4  # in flight to one webhook receiver at once
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
        self.delivered = 0

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
        finally:
            for t in running:
                t.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _claim(self, room: int) -> list[store.Delivery]:
        if room <= 0:
            return []
        busy = [s for s, n in self._per_subscription.items() if n >= self._config.per_subscription]
        try:
            async with self._pool.connection() as conn, conn.transaction():
                return await store.claim(conn, limit=room, lease_s=self._config.lease_s, busy=busy)
        except psycopg.OperationalError as exc:
            log.warning("store unavailable for delivery (%s)", exc)
            await asyncio.sleep(1.0)
            return []

    async def _deliver(self, d: store.Delivery) -> None:
        try:
            if d.channel == "sms" and d.phone is not None:
                # One text to a number at a time, so the rate limit counts every one sent.
                async with self._phone_locks.setdefault(d.phone, asyncio.Lock()):
                    await self._record(d, await self._text(d, d.phone))
            else:
                await self._record(d, await self._send(d))
        except psycopg.OperationalError as exc:
            # The lease runs out and the row is sent again: nothing lost.
            log.warning("delivery %d not recorded (%s); it will be retried", d.id, exc)
        finally:
            if d.subscription_id is not None:
                self._per_subscription[d.subscription_id] -= 1

    async def _text(self, d: store.Delivery, phone: str) -> Outcome | str:
        """The channel's outcome, or the reason the text is held back."""
        async with self._pool.connection() as conn:
            sent = await store.texts_sent(conn, phone=phone, within_s=self._config.sms_window_s)
        if sent >= self._config.sms_per_phone:
            return (
                f"rate limit: {sent} texts to this number in the last"
                f" {self._config.sms_window_s / 60:.0f} min"
            )
        return await self._send(d)

    async def _send(self, d: store.Delivery) -> Outcome | str:
        channel = self._channels.get(d.channel)
        if channel is None:
            return f"no {d.channel} channel configured"
        return await channel.send(d)

    async def _record(self, d: store.Delivery, outcome: Outcome | str) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            if isinstance(outcome, str):
                await store.suppress(conn, outbox_id=d.id, reason=outcome)
                return
            if outcome.ok:
                await store.delivered(conn, outbox_id=d.id)
                self.delivered += 1
                return
            delay = retry_delay(d.attempts, self._config, self._rng)
            age = time.time() - d.created_at.timestamp()
            give_up = not outcome.retry or age + delay > self._config.max_age_s
            error = outcome.error or "failed"
            await store.failed(
                conn, outbox_id=d.id, error=error, retry_in_s=None if give_up else delay
            )
            if give_up:
                log.warning("delivery %d is a dead letter: %s", d.id, error)
