"""The live feed over a real WebSocket (uvicorn on loopback, the `websockets` client), fed by
the real pipeline through the test Mosquitto: an officer sees the positions and alert changes
of their office only; a client that reconnects with its last cursor gets what it missed and
nothing twice; heartbeats while idle; a bad hello, a bad token or an ended session closes the
feed with a code saying why; opening a feed is an audited location read."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import alerts
import store
from api import create_app, live
from domain import AlertAction, AlertKind, Finding, FixBatch, FixSource
from tests.helpers import bearer, officer_of, seed_subject, sign_in, until
from tests.running import processed, publish, walk
from tests.serving import serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline
    from tests.conftest import Broker
    from tests.helpers import Seeded

PASSWORD = "live-feed-password"


@pytest.fixture
async def server(pool: AsyncConnectionPool[Any]) -> AsyncIterator[str]:
    """The API on a free loopback port with a fast feed and a short heartbeat."""
    async with serving(create_app(pool, live_interval_s=0.1, live_heartbeat_s=0.5)) as api:
        yield api.address


async def _officer(pool: AsyncConnectionPool[Any], seeded: Seeded) -> str:
    return await officer_of(pool, seeded, prefix="live-officer", password=PASSWORD)


async def _token(address: str, name: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        return await sign_in(client, name, PASSWORD)


async def _next(ws: ClientConnection, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next message of this type (heartbeats and others skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message: dict[str, Any] = json.loads(
            await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
        )
        if message["type"] == kind:
            return message


async def _hello(ws: ClientConnection, token: str, since: str | None = None) -> dict[str, Any]:
    await ws.send(json.dumps({"token": token, "purpose": "night shift duty", "since": since}))
    ready = await _next(ws, "ready")
    return ready


async def _collect(ws: ClientConnection, want: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Events messages until `want(all so far)` holds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not want(got):
        got.append(await _next(ws, "events", deadline - time.monotonic()))
    return got


def _positions(messages: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(p["device_code"], p["subject_id"]) for m in messages for p in m["positions"]]


def _alert_steps(messages: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(a["alert"]["id"], a["event"]["action"]) for m in messages for a in m["alerts"]]


async def test_an_officer_follows_their_office_live_and_resumes_without_loss(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline, server: str
) -> None:
    tag = secrets.token_hex(3)
    mine = await seed_subject(pool, code=f"live-a-{tag}")
    theirs = await seed_subject(pool, code=f"live-b-{tag}")
    await pipeline.refresh()
    await publish(mosquitto, walk(mine, [0.0]))
    await until(lambda: processed(pipeline, 1), what="the first fix stored")
    name = await _officer(pool, mine)
    token = await _token(server, name)
    url = f"ws://{server}/api/v1/live"
    async with connect(url) as ws:
        ready = await _hello(ws, token)
        # The first events message: every current position of the office, one here.
        (snapshot,) = await _collect(ws, lambda got: len(got) == 1)
        assert _positions([snapshot]) == [(mine.device_code, mine.subject_id)]
        # Fixes of both offices arrive through the pipeline; only mine reaches me.
        await publish(mosquitto, [*walk(theirs, [0.0, 10.0]), *walk(mine, [20.0])])
        await until(lambda: processed(pipeline, 4), what="three more fixes stored")
        got = await _collect(ws, _positions)
        assert set(_positions(got)) == {(mine.device_code, mine.subject_id)}
        # Alerts of both offices open; only mine reaches me, with its event.
        async with pool.connection() as conn:
            changes = await alerts.notices.record_findings(
                conn,
                [
                    Finding(AlertKind.TAMPER, s.subject_id, time.time(), "strap cut")
                    for s in (mine, theirs)
                ],
                actor="test",
            )
        alert_mine = changes[0].alert_id
        got = await _collect(ws, _alert_steps)
        assert _alert_steps(got) == [(alert_mine, "opened")]
        cursor = got[-1]["cursor"]
        assert int(cursor) >= int(ready["cursor"])
    # While disconnected: a fix and an acknowledgement of my alert, and B's traffic.
    async with pool.connection() as conn:
        await alerts.notices.add_event(
            conn, alert_id=alert_mine, action=AlertAction.NOTED, actor=name, note="called"
        )
    await publish(mosquitto, [*walk(mine, [30.0]), *walk(theirs, [40.0])])
    await until(lambda: processed(pipeline, 6), what="two more fixes stored")
    async with connect(url) as ws:
        await _hello(ws, token, since=cursor)
        (missed,) = await _collect(ws, lambda got: len(got) == 1)
        assert _positions([missed]) == [(mine.device_code, mine.subject_id)]
        assert missed["positions"][0]["time"] > snapshot["positions"][0]["time"]
        assert _alert_steps([missed]) == [(alert_mine, "noted")]  # "opened" is not sent again
        # Idle: heartbeats carry the cursor on.
        beat = await _next(ws, "heartbeat")
        assert int(beat["cursor"]) >= int(missed["cursor"])
    # Each connection was an audited read: who, which offices, why, how many positions shown.
    async with pool.connection() as conn:
        office = await store.subjects.subject_office(conn, subject_id=mine.subject_id)
        assert office is not None
        reads = [
            r
            for r in await store.audit.location_reads(conn, offices=[office], limit=100)
            if r.username == name
        ]
    assert [(r.what, r.subject_id, r.offices, r.purpose, r.fixes) for r in reads] == [
        ("live", None, [office], "night shift duty", 1),
        ("live", None, [office], "night shift duty", 1),
    ]


async def _closed_with(ws: ClientConnection) -> int:
    """The close code the server sent (messages before it skipped)."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(_drain(ws), 10)
    assert closed.value.rcvd is not None, "the server closed with a code"
    return closed.value.rcvd.code


async def _drain(ws: ClientConnection) -> None:
    while True:
        await ws.recv()


async def test_the_feed_closes_with_a_reason(pool: AsyncConnectionPool[Any], server: str) -> None:
    seeded = await seed_subject(pool, code=f"live-c-{secrets.token_hex(3)}")
    name = await _officer(pool, seeded)
    url = f"ws://{server}/api/v1/live"
    async with connect(url) as ws:
        await ws.send(json.dumps({"token": "x"}))  # no purpose
        assert await _closed_with(ws) == 4400
    async with connect(url) as ws:
        await ws.send(json.dumps({"token": "not-a-token", "purpose": "night shift"}))
        assert await _closed_with(ws) == 4401
    # Signing out ends the session; the open feed closes at its next heartbeat.
    token = await _token(server, name)
    async with connect(url) as ws:
        await _hello(ws, token)
        async with httpx.AsyncClient(base_url=f"http://{server}") as client:
            out = await client.post("/api/v1/auth/logout", headers=bearer(token))
            assert out.status_code == 204
        assert await _closed_with(ws) == 4401


async def test_a_busy_feed_closes_within_seconds_of_its_user_being_disabled(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    """A feed receiving positions several times a second never goes quiet long enough for
    a heartbeat: its user is looked up again every couple of seconds all the same."""
    seeded = await seed_subject(pool, code=f"live-d-{secrets.token_hex(3)}")
    await pipeline.refresh()
    name = await _officer(pool, seeded)
    async with serving(create_app(pool, live_interval_s=0.1, live_heartbeat_s=60)) as api:
        token = await _token(api.address, name)

        async def busy() -> None:
            for i in range(200):
                await publish(mosquitto, walk(seeded, [float(i)]))
                await asyncio.sleep(0.1)

        feeding = asyncio.create_task(busy())
        try:
            async with connect(f"ws://{api.address}/api/v1/live") as ws:
                await _hello(ws, token)
                await _collect(ws, lambda got: len(_positions(got)) >= 5)  # busy indeed
                async with pool.connection() as conn:
                    cur = await conn.execute("SELECT id FROM users WHERE username = %s", (name,))
                    row = await cur.fetchone()
                    assert row is not None
                    await store.users.update_user(conn, user_id=int(row[0]), disabled=True)
                disabled = time.monotonic()
                assert await _closed_with(ws) == 4401
                closed_after = time.monotonic() - disabled
        finally:
            feeding.cancel()
    print(f"the feed closed {closed_after:.1f} s after the user was disabled")
    assert closed_after < 8.0  # the recheck is every 2 s; the heartbeat would be 60 s


def fix_at(subject: int, device: int, at: float) -> FixBatch:
    one = np.ones(1)
    return FixBatch(
        subject=np.array([subject]),
        device=np.array([device]),
        time=one * at,
        lon=one * 104.0,
        lat=one * 30.6,
        accuracy=one * 5.0,
        source=[FixSource.GNSS],
        battery=np.array([80], np.int16),
        seq=np.array([-1]),
        received=one * at,
        mock=np.zeros(1, np.bool_),
    )


async def test_the_feed_wakes_when_a_position_commits_not_at_its_next_poll(
    pool: AsyncConnectionPool[Any],
) -> None:
    """With the poll a minute apart, a committed position still reaches the feed within a
    second: the commit itself wakes it (LISTEN/NOTIFY); one rolled back never does."""
    seeded = await seed_subject(pool, code="live-wake")
    async with pool.connection() as conn:
        device = {d.code: d.id for d in await store.devices.load_devices(conn)}["live-wake"]
    feed = live.Feed(pool, interval_s=60.0)
    queue, _ = await feed.subscribe()
    try:
        with contextlib.suppress(TimeoutError):  # the start: nothing, or older positions
            while True:
                await asyncio.wait_for(queue.get(), 1.0)

        async def position(at: float, *, commit: bool) -> None:
            async with pool.connection() as conn:
                tx = conn.transaction(force_rollback=not commit)
                async with tx:
                    await store.fixes.copy_fixes(conn, fix_at(seeded.subject_id, device, at))

        await position(time.time(), commit=False)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(queue.get(), 1.5)
        written = time.time()
        await position(written, commit=True)
        batch = await asyncio.wait_for(queue.get(), 5.0)
        arrived = time.time()
    finally:
        feed.unsubscribe(queue)
    assert batch is not None
    assert [p.device_code for p in batch.positions] == ["live-wake"]
    assert arrived - written < 1.0
