"""The live feed: a WebSocket pushing each device's newest position and every alert change
of the caller's offices, as they commit.

One poller per process reads the store when a transaction that wrote positions or alert
steps commits (PostgreSQL notifies it), and every `interval_s` besides (a commit below the
horizon can wait for the next one), what committed below the oldest running transaction
(see `store.live`), and hands each batch to every connection, which keeps what its user may
see. The protocol (JSON text messages):

- client, first, within 10 s: {"token": "<access or API token>", "purpose": "why",
  "since": "<cursor>"?}
- server: {"type": "ready", "cursor": "...", "heartbeat_s": 15.0, "user": "..."}; then
  {"type": "events", "cursor": "...", "positions": [...], "alerts": [...]}: the first one
  holds every current position (or, with `since`, what changed since that cursor), then
  one per change; {"type": "heartbeat", "cursor": "...", "at": "..."} when idle;
  {"type": "resync", "reason": "..."} when a resume cannot be served (reload over REST and
  connect again without `since`).
- close codes: 4400 a bad first message, 4401 not signed in or the session ended,
  4408 no first message in time, 1013 the connection fell too far behind.

Opening a feed is a location read: it is recorded with its purpose and offices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError

import store
from api import schemas
from api.auth import still_signed_in, user_of_token
from api.deps import services
from api.principal import Principal
from domain import Language

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

HELLO_TIMEOUT_S = 10.0
BACKLOG = 1000  # batches a connection may fall behind before it is dropped
RESUME_LIMIT = 10_000  # alert events a resume replays at most


@dataclass(frozen=True, slots=True)
class Batch:
    """What committed in [after, cursor): positions and alert changes of every office."""

    cursor: int
    positions: list[store.live.PositionRow]
    alerts: list[tuple[store.alerts.AlertEventRow, store.alerts.AlertRow, int]]


class Feed:
    """Polls the store while anyone listens and fans each batch out."""

    def __init__(
        self, pool: AsyncConnectionPool[Any], *, interval_s: float = 0.5, gap_s: float = 0.02
    ) -> None:
        self._pool = pool
        self._interval_s = interval_s
        self._gap_s = gap_s  # at least this between two reads, however many commits
        self._woken = asyncio.Event()
        self._queues: set[asyncio.Queue[Batch | None]] = set()
        self._cursor = 0
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def subscribe(self) -> tuple[asyncio.Queue[Batch | None], int]:
        """A queue of every batch from the returned cursor on."""
        async with self._starting:
            if self._task is None or self._task.done():
                async with self._pool.connection() as conn:
                    self._cursor = await store.live.feed_horizon(conn)
                self._task = asyncio.create_task(self._run(), name="live feed")
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(BACKLOG)
        self._queues.add(queue)
        return queue, self._cursor

    def unsubscribe(self, queue: asyncio.Queue[Batch | None]) -> None:
        self._queues.discard(queue)
        if not self._queues and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _listen(self) -> None:
        conninfo = self._pool.conninfo
        if not isinstance(conninfo, str):  # a pool that builds its own: polling only
            return
        while True:
            try:
                await store.live.wake_on_commits(conninfo, self._woken.set)
            except Exception:
                log.exception("live feed: listening for commits failed; polling meanwhile")
            await asyncio.sleep(self._interval_s)

    async def _run(self) -> None:
        listening = asyncio.create_task(self._listen(), name="live feed commits")
        try:
            while True:
                store.cancellation.honour_cancellation()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._interval_s)
                self._woken.clear()
                await self._read_and_hand_out()
                await asyncio.sleep(self._gap_s)
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    async def _read_and_hand_out(self) -> None:
        try:
            batch = await self._poll()
        except Exception:
            log.exception("live feed: reading the store failed; trying again")
            return
        if batch is None:
            return
        self._cursor = batch.cursor
        for queue in list(self._queues):
            try:
                queue.put_nowait(batch)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                queue.get_nowait()  # room for the end marker
                queue.put_nowait(None)

    async def _poll(self) -> Batch | None:
        async with self._pool.connection() as conn:
            horizon = await store.live.feed_horizon(conn)
            if horizon <= self._cursor:
                return None
            positions = await store.live.positions(
                conn, after=self._cursor, before=horizon, offices=None
            )
            alerts = await store.alerts.alert_changes(
                conn, after=self._cursor, before=horizon, offices=None, limit=1_000_000
            )
        return Batch(horizon, positions, alerts)


class Hello(BaseModel):
    token: str = Field(min_length=1, max_length=4000)
    purpose: str = Field(min_length=4, max_length=500)
    since: int | None = Field(default=None, ge=0, description="the last cursor received")
    lang: Language = Field(default="en", description="the language of alerts' messages")


def _position(row: store.live.PositionRow) -> dict[str, Any]:
    shown = asdict(row)
    shown["time"] = row.time.isoformat()
    shown["received_at"] = row.received_at.isoformat()
    return shown


def _alert(
    change: tuple[store.alerts.AlertEventRow, store.alerts.AlertRow, int], language: Language
) -> dict[str, Any]:
    event, row, office = change
    alert = schemas.localised(row, language)
    shown = asdict(alert)
    del shown["message_key"], shown["message_params"]
    return {
        "event": {
            "id": event.id,
            "action": event.action,
            "actor": event.actor,
            "at": event.at.isoformat(),
            "note": event.note,
        },
        "alert": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in shown.items()},
        "office_id": office,
    }


def _events(
    cursor: int,
    positions: list[store.live.PositionRow],
    alerts: list[tuple[store.alerts.AlertEventRow, store.alerts.AlertRow, int]],
    language: Language,
) -> dict[str, Any]:
    return {
        "type": "events",
        "cursor": str(cursor),
        "positions": [_position(p) for p in positions],
        "alerts": [_alert(a, language) for a in alerts],
    }


async def _hello(ws: WebSocket) -> Hello | None:
    try:
        raw = await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT_S)
    except TimeoutError:
        await ws.close(4408, "send {token, purpose} first")
        return None
    try:
        return Hello.model_validate_json(raw)
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        await ws.close(4400, reason[:120])
        return None


@router.websocket("/live")
async def live(ws: WebSocket) -> None:
    await ws.accept()
    hello = await _hello(ws)
    if hello is None:
        return
    shared = services(ws.app)
    pool, feed = shared.pool, shared.feed
    async with pool.connection() as conn:
        try:
            user = await user_of_token(hello.token, conn, ws.app)
        except HTTPException as exc:
            await ws.close(4401, str(exc.detail)[:120])
            return
    queue, cursor = await feed.subscribe()
    try:
        first = await _catch_up(ws, user, hello, cursor)
        if first is None:
            return
        await ws.send_json(
            {
                "type": "ready",
                "cursor": str(cursor),
                "heartbeat_s": services(ws.app).live_heartbeat_s,
                "user": user.username,
            }
        )
        await ws.send_json(first)
        await _follow(ws, user, hello, queue, cursor)
    except WebSocketDisconnect:
        pass
    finally:
        feed.unsubscribe(queue)


async def _catch_up(
    ws: WebSocket, user: Principal, hello: Hello, cursor: int
) -> dict[str, Any] | None:
    """The first events message (and the audit row of this look at positions), or None after
    telling the client to resync."""
    pool = services(ws.app).pool
    async with pool.connection() as conn:
        if hello.since is not None and hello.since > cursor:
            await ws.send_json({"type": "resync", "reason": "unknown cursor (the store changed?)"})
            await ws.close()
            return None
        positions = await store.live.positions(
            conn,
            after=hello.since,
            before=None if hello.since is None else cursor,
            offices=user.scope,
        )
        alerts = []
        if hello.since is not None:
            alerts = await store.alerts.alert_changes(
                conn,
                after=hello.since,
                before=cursor,
                offices=user.scope,
                limit=RESUME_LIMIT + 1,
            )
            if len(alerts) > RESUME_LIMIT:
                await ws.send_json(
                    {"type": "resync", "reason": f"more than {RESUME_LIMIT} alert events missed"}
                )
                await ws.close()
                return None
        await store.audit.record_location_read(
            conn,
            username=user.username,
            subject_id=None,
            what="live",
            purpose=hello.purpose,
            fixes=len(positions),
            offices=user.scope,
        )
    return _events(cursor, positions, alerts, hello.lang)


async def _follow(
    ws: WebSocket,
    user: Principal,
    hello: Hello,
    queue: asyncio.Queue[Batch | None],
    cursor: int,
) -> None:
    """Send each batch's part the user may see; after `heartbeat_s` with nothing sent, a
    heartbeat. Every `live_recheck_s`, however busy the feed, the user is looked up again:
    a session that ended closes the feed, offices that changed change what is sent."""
    shared = services(ws.app)
    heartbeat_s, recheck_s = shared.live_heartbeat_s, shared.live_recheck_s
    listener = asyncio.create_task(_until_closed(ws))
    sent = checked = time.monotonic()
    try:
        while not listener.done():
            get = asyncio.ensure_future(queue.get())
            due = max(0.0, min(sent + heartbeat_s, checked + recheck_s) - time.monotonic())
            done, _ = await asyncio.wait(
                {get, listener}, timeout=due, return_when=asyncio.FIRST_COMPLETED
            )
            if get in done:
                batch = get.result()
                if batch is None:
                    await ws.close(1013, "fell too far behind: connect again with since")
                    return
                cursor = batch.cursor
                positions = [p for p in batch.positions if user.sees(p.office_id)]
                alerts = [a for a in batch.alerts if user.sees(a[2])]
                if positions or alerts:
                    await ws.send_json(_events(cursor, positions, alerts, hello.lang))
                    sent = time.monotonic()
            else:
                get.cancel()
            if listener.done():
                continue
            if time.monotonic() - checked >= recheck_s:
                pool = services(ws.app).pool
                async with pool.connection() as conn:
                    now_user = await still_signed_in(conn, user, hello.token, ws.app)
                if now_user is None:
                    await ws.close(4401, "the session has ended: sign in again")
                    return
                user, checked = now_user, time.monotonic()
            if time.monotonic() - sent >= heartbeat_s:
                await ws.send_json(
                    {
                        "type": "heartbeat",
                        "cursor": str(cursor),
                        "at": datetime.now(UTC).isoformat(),
                    }
                )
                sent = time.monotonic()
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await listener


async def _until_closed(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes away."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
