"""Running the real pipeline in a test: subscribed to the test Mosquitto, writing to the
module's PostgreSQL, with rule timings short enough for a test."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiomqtt

import store
from alerts import SuspectPolicy
from ccmon.services import cancel_all
from domain import AlertState, LevelPolicy, SupervisionLevel
from ingest import BatchConfig, Limits, MqttConfig, Pipeline, PipelineConfig, run_ingest
from simulators import fix_payload
from tests.helpers import now_minus, offset

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker
    from tests.helpers import Seeded

LIMITS = Limits(max_future_s=300, max_age_s=86400, max_accuracy_m=50_000)

# Zone violations confirmed by two fixes; separation after 3 s; nobody silent within a test
# unless the test shortens the intervals.
TEST_POLICY = LevelPolicy(
    phone_interval_s=3600,
    wristband_interval_s=3600,
    silence_grace_s=3600,
    confirm_fixes=2,
    confirm_s=1e9,
    separation_m=100,
    separation_s=3,
    pair_window_s=60,
)


def levels(**changes: Any) -> dict[SupervisionLevel, LevelPolicy]:
    """Every level with TEST_POLICY and `changes`."""
    return dict.fromkeys(SupervisionLevel, replace(TEST_POLICY, **changes))


@asynccontextmanager
async def running_pipeline(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    *,
    client_id: str,
    policy: dict[SupervisionLevel, LevelPolicy] | None = None,
    escalate_after_s: float = 3600,
    tick_s: float = 0.2,
    queue: asyncio.Queue[Any] | None = None,
    share_group: str | None = None,
    pipeline_class: type[Pipeline] = Pipeline,
    tls_ca: str | None = None,
    account: tuple[str, str] | None = None,
    suspect: SuspectPolicy | None = None,
) -> AsyncIterator[Pipeline]:
    """A pipeline subscribed to the test broker (connected when this yields; over TLS,
    trusting `tls_ca`, when given; as the broker user `account` = (username, password), when
    given); its clock rules run every `tick_s`."""
    p = pipeline_class(
        pool,
        PipelineConfig(
            limits=LIMITS,
            levels=policy or levels(),
            refresh_s=0.2,
            escalate_after_s=escalate_after_s,
            suspect=suspect or SuspectPolicy(),
        ),
    )
    connected = asyncio.Event()
    task = asyncio.create_task(
        run_ingest(
            p,
            MqttConfig(
                mosquitto.host,
                mosquitto.port,
                client_id=client_id,
                username=account[0] if account else None,
                password=account[1] if account else None,
                share_group=share_group,
                tls=tls_ca is not None,
                tls_ca=tls_ca,
            ),
            BatchConfig(size=100, wait_s=0.05),
            queue=queue,
            connected=connected,
            tick_s=tick_s,
        )
    )
    try:
        await asyncio.wait_for(connected.wait(), 10)
        yield p
    finally:
        # Cancel until it ends, as `ccmon serve` does: on Python 3.11 a library's
        # asyncio.wait_for (aiomqtt's) can swallow a cancellation that races with its
        # result, and the reader would go on reading (one such stop hung a whole run).
        await cancel_all([task])
        if not task.cancelled():
            task.result()  # it ended with an error: show it


async def publish(broker: Broker, items: list[tuple[str, bytes]]) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for topic, payload in items:
            await client.publish(topic, payload, qos=1)


def walk(
    seeded: Seeded,
    east_m: list[float],
    *,
    accuracy: float = 10.0,
    device: str | None = None,
    step_s: float = 1.0,
) -> list[tuple[str, bytes]]:
    """One fix per position, `step_s` apart, ending now, along the east axis of the zone."""
    n = len(east_m)
    out = []
    for i, e in enumerate(east_m):
        lon, lat = offset(e, 0.0)
        payload = fix_payload(
            when=now_minus((n - i) * step_s), lon=lon, lat=lat, accuracy=accuracy, battery=80, seq=i
        )
        out.append((f"cc/v1/devices/{device or seeded.device_code}/fix", payload))
    return out


async def history(pool: AsyncConnectionPool[Any], alert_id: int) -> list[str]:
    """An alert's steps, oldest first."""
    async with pool.connection() as conn:
        return [e.action for e in await store.alerts.alert_events(conn, alert_id=alert_id)]


async def live_alerts(
    pool: AsyncConnectionPool[Any], subject_id: int
) -> list[store.alerts.AlertRow]:
    async with pool.connection() as conn:
        return await store.alerts.list_alerts(
            conn,
            states=[AlertState.OPEN, AlertState.ACKNOWLEDGED],
            subject_id=subject_id,
            limit=100,
        )


async def processed(pipeline: Pipeline, n: int) -> bool:
    """Have `n` messages' fixes been stored, skipped as duplicates or quarantined?"""
    s = pipeline.stats
    return s.stored + s.duplicates + s.quarantined >= n


async def serve(
    database_url: str,
    broker: Broker,
    log: Path,
    *,
    client_id: str,
    api_port: int,
    env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """`ccmon serve` in a process of its own, writing to `log`."""
    settings = {
        **os.environ,
        "CCMON_DATABASE_URL": database_url,
        "CCMON_MQTT_HOST": broker.host,
        "CCMON_MQTT_PORT": str(broker.port),
        "CCMON_MQTT_CLIENT_ID": client_id,
        "CCMON_API_PORT": str(api_port),
        "CCMON_BATCH_SIZE": "100",
        **(env or {}),
    }
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ccmon", "serve", env=settings, stdout=out, stderr=out
        )


async def subscribed(log: Path) -> bool:
    """Has the `ccmon serve` writing to `log` subscribed?"""
    text = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
    return "subscribed on" in text


async def stop(server: asyncio.subprocess.Process, *, within_s: float = 30.0) -> None:
    """SIGTERM, as a service manager stops it; a process that does not end in time is
    killed and fails the test."""
    if server.returncode is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(server.wait(), within_s)
    except TimeoutError:
        server.kill()
        await server.wait()
        raise AssertionError(f"ccmon serve did not stop within {within_s} s of SIGTERM") from None
