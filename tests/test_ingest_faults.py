"""Faults through the real parts: `ccmon serve` killed with SIGKILL in the middle of a stream
and started again stores every fix the device sent, exactly once (the broker's message is
acknowledged only after its batch is committed; a redelivery is stored once)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiomqtt

from ccmon.mosquitto import mosquitto_config
from simulators import fix_payload
from tests.conftest import free_port, shared_folder, started_mosquitto
from tests.helpers import offset, seed_subject, until
from tests.running import processed, publish, running_pipeline, serve, stop, subscribed

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker

FIXES = 3000


async def stored(pool: AsyncConnectionPool[Any], subject_id: int) -> tuple[int, int]:
    """(rows, distinct sequence numbers) stored for the subject."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*), count(DISTINCT seq) FROM fixes WHERE subject_id = %s",
            (subject_id,),
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def test_ingest_killed_mid_stream_loses_nothing_and_doubles_nothing(
    pool: AsyncConnectionPool[Any], database_url: str, mosquitto: Broker, tmp_path: Path
) -> None:
    seeded = await seed_subject(pool, code="faults-kill")
    lon, lat = offset(0.0, 0.0)
    start = datetime.now(UTC) - timedelta(minutes=10)
    payloads = [
        fix_payload(
            when=start + timedelta(milliseconds=100 * i),
            lon=lon,
            lat=lat,
            accuracy=10,
            battery=80,
            seq=i,
        )
        for i in range(FIXES)
    ]
    topic = f"cc/v1/devices/{seeded.device_code}/fix"
    log = tmp_path / "serve.log"
    # The same client id after the restart: the same broker session.
    server = await serve(
        database_url, mosquitto, log, client_id="ccmon-ingest-faults", api_port=free_port()
    )
    try:
        # Its persistent session exists from its first subscription on.
        await until(lambda: subscribed(log), timeout=60, what="ccmon serve subscribed")
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="faults-phone") as c:
            await c.publish(topic, payloads[0], qos=1)
            await until(lambda: _at_least(pool, seeded.subject_id, 1), timeout=60, what="serving")
            for p in payloads[1:]:
                await c.publish(topic, p, qos=1)
                if await _at_least(pool, seeded.subject_id, FIXES // 3):
                    break
            server.send_signal(signal.SIGKILL)  # mid-stream: batches in flight, unacknowledged
            await server.wait()
            sent_before_kill = payloads.index(p) + 1
            for p in payloads[sent_before_kill:]:
                await c.publish(topic, p, qos=1)
        rows, _ = await stored(pool, seeded.subject_id)
        assert rows < FIXES, "the kill came too late to test anything"
        server = await serve(
            database_url, mosquitto, log, client_id="ccmon-ingest-faults", api_port=free_port()
        )
        await until(lambda: _at_least(pool, seeded.subject_id, FIXES), timeout=60, what="every fix")
        await asyncio.sleep(1.0)  # redeliveries still arriving would show up now
        assert await stored(pool, seeded.subject_id) == (FIXES, FIXES)
    finally:
        await stop(server)


async def _at_least(pool: AsyncConnectionPool[Any], subject_id: int, n: int) -> bool:
    return (await stored(pool, subject_id))[0] >= n


async def test_a_broker_restart_is_ridden_out(pool: AsyncConnectionPool[Any]) -> None:
    """Ingest reconnects with back-off to a restarted broker (persistent, same port) and
    what was published meanwhile arrives."""
    seeded = await seed_subject(pool, code="faults-broker")
    port = free_port()
    folder = shared_folder("ccmon-broker-", mode=0o777)  # the broker writes persistence
    config = mosquitto_config(port=port, persistence_dir=folder)
    lon, lat = offset(0.0, 0.0)
    now = datetime.now(UTC)
    payloads = [
        fix_payload(
            when=now - timedelta(seconds=60 - i), lon=lon, lat=lat, accuracy=10, battery=80, seq=i
        )
        for i in range(40)
    ]
    topic = f"cc/v1/devices/{seeded.device_code}/fix"
    with contextlib.ExitStack() as first_broker:
        broker = first_broker.enter_context(started_mosquitto(folder, config, port))
        async with running_pipeline(pool, broker, client_id="faults-broker") as p:
            await publish(broker, [(topic, x) for x in payloads[:20]])
            await until(lambda: processed(p, 20), what="the first 20 fixes")
            first_broker.close()  # the broker goes away under the running pipeline
            await asyncio.sleep(1.0)
            with started_mosquitto(folder, config, port):
                await publish(broker, [(topic, x) for x in payloads[20:]])
                await until(
                    lambda: _at_least(pool, seeded.subject_id, 40),
                    timeout=30,
                    what="all 40 fixes after the restart",
                )
    assert await stored(pool, seeded.subject_id) == (40, 40)
    shutil.rmtree(folder)


async def test_a_flood_of_malformed_payloads_is_quarantined_and_good_fixes_flow(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="faults-flood")
    topic = f"cc/v1/devices/{seeded.device_code}/fix"
    lon, lat = offset(0.0, 0.0)
    now = datetime.now(UTC)
    junk = [b"{", b'[{"lat": 1}]', b'{"lat": 91}', b"\xff\xfe", b'{"time": "yesterday"}']
    messages = []
    for i in range(200):
        when = now - timedelta(seconds=300 - i)
        good = fix_payload(when=when, lon=lon, lat=lat, accuracy=10, battery=80, seq=i)
        messages.append((topic, good))
        messages += [(topic, junk[(i + k) % len(junk)]) for k in range(10)]
    async with running_pipeline(pool, mosquitto, client_id="faults-flood") as p:
        await publish(mosquitto, messages)
        await until(lambda: processed(p, len(messages)), timeout=60, what="the flood")
        assert (p.stats.stored, p.stats.quarantined) == (200, 2000)
    assert await stored(pool, seeded.subject_id) == (200, 200)
