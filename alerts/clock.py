"""The clock rules' place in time: one process at a time leads them (an advisory lock held
by a connection of its own), and each tick decides silence, curfew starts, leave ends and
order reminders, escalates unacknowledged critical alerts, and starts pursuits, in one
transaction that every batch waits for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import psycopg

import store
from alerts import notices, pursuit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from psycopg_pool import AsyncConnectionPool

    from alerts.rulebook import RuleBook
    from domain import AlertChange, LevelPolicy, SupervisionLevel

log = logging.getLogger(__name__)


class Clock:
    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        *,
        levels: Mapping[SupervisionLevel, LevelPolicy],
        escalate_after_s: float,
        actor: str,
    ) -> None:
        self._pool = pool
        self._levels = levels
        self._escalate_after_s = escalate_after_s
        self._actor = actor
        self._held: psycopg.AsyncConnection[Any] | None = None  # while leading
        self._taking_over = False

    @property
    def leading(self) -> bool:
        """Does this process run the clock rules (one ingest process at a time does)?"""
        return self._held is not None

    async def tick(self, rules: RuleBook, now: float) -> list[AlertChange]:
        """Run the clock rules at `now` if this process leads them (or becomes the one
        that does); waits for the store while it is away. Returns the alert changes."""
        if not await self._lead():
            return []
        while True:
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    await store.rule_state.lock_rules(conn, alone=True)
                    await rules.catch_up(conn, now=now if self._taking_over else None)
                    # Fixes that waited in a backlog, here or in another process, are not
                    # silence: nobody is called silent before they are read.
                    held = await store.clock.backlog_pending(conn)
                    verdict = rules.tick(now, hold_silence=held)
                    versions = await rules.claim(conn, rules.subjects_of(verdict))
                    changes = await verdict.save(conn, actor=self._actor)
                    changes += await notices.escalate_unacknowledged(
                        conn, after_s=self._escalate_after_s, actor=self._actor
                    )
                    await pursuit.start(conn, changes, levels=self._levels)
                    await store.clock.set_clock_time(conn, now)
                break
            except psycopg.OperationalError as exc:
                log.warning("store unavailable (%s); clock rules wait", exc)
                await asyncio.sleep(1.0)
        self._taking_over = False
        rules.apply(verdict, versions=versions, now=now)
        return changes

    async def close(self) -> None:
        """Let another process take the clock rules over."""
        conn, self._held = self._held, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.execute("SELECT pg_advisory_unlock_all()")
            await self._release(conn)

    async def _lead(self) -> bool:
        """Becomes the process that runs the clock rules when none does (or the one that
        did has gone: its connection closed, its lock with it)."""
        if self._held is not None:
            try:
                await self._held.execute("SELECT 1")
                return True
            except psycopg.Error as exc:
                log.warning("lost the clock rules (%s)", exc)
                await self.close()
        try:
            conn = await self._pool.getconn()
        except psycopg.OperationalError as exc:
            log.warning("store unavailable (%s); clock rules wait", exc)
            return False
        try:
            await conn.set_autocommit(True)  # held for long: never idle in a transaction
            if await store.clock.lead_clock(conn):
                log.info("running the clock rules")
                self._held, self._taking_over = conn, True
                return True
        except psycopg.OperationalError as exc:
            log.warning("store unavailable (%s); clock rules wait", exc)
        await self._release(conn)
        return False

    async def _release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with contextlib.suppress(psycopg.Error):
            await conn.set_autocommit(False)
        await self._pool.putconn(conn)
