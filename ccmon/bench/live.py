"""`ccmon bench live`: how soon the duty officer's live feed shows what the devices send.

The demo city (its subjects, devices and scenarios) in a fresh database; Mosquitto with the
configuration ccmon generates; ingest, delivery and the API in this process, as `ccmon
serve` runs them; the city's simulated devices publishing in real time; and a WebSocket
client signed in as a county-wide duty officer following the feed, as the console does. Per
position: from the fix's own time (the device measured and sent it) to its arrival on the
feed; per alert step: from the step's time in the store to its arrival.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
from websockets.asyncio.client import connect

import store
from api.passwords import hash_password
from ccmon.bench.common import free_port, ms, print_table, scratch_database
from ccmon.city import prepare_run, seed_city
from ccmon.mosquitto import mosquitto_config, running_mosquitto
from ccmon.services import connection_pool, monitoring, prepare_database, run_until_stopped
from simulators import DEMO_SCENARIOS, generate_city, simulate_city

if TYPE_CHECKING:
    import uvicorn

    from ccmon.settings import Settings


def run(settings: Settings, *, seconds: float, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="ccmon-live-") as folder:
        Path(folder).chmod(0o755)  # Mosquitto reads its config as its own user
        asyncio.run(_run(settings, Path(folder), seconds, seed))


class _Watch:
    """A duty officer's feed: the delay of everything it is shown."""

    def __init__(self) -> None:
        self.positions: list[float] = []
        self.alerts: list[float] = []

    async def follow(self, address: str, officer: tuple[str, str], seconds: float) -> None:
        name, password = officer
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            answer = await client.post(
                "/api/v1/auth/token", json={"username": name, "password": password}
            )
            answer.raise_for_status()
            token = answer.json()["access_token"]
        hello = {"token": token, "purpose": "benchmark: the feed's delay"}
        async with connect(f"ws://{address}/api/v1/live") as ws:
            await ws.send(json.dumps(hello))
            ends = time.monotonic() + seconds
            first = True  # the snapshot of current positions: not a delay
            while (left := ends - time.monotonic()) > 0:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), left))
                except TimeoutError:
                    break
                now = time.time()
                if message["type"] != "events":
                    continue
                if not first:
                    self._note(message, now)
                first = False

    def _note(self, message: dict[str, Any], now: float) -> None:
        for p in message["positions"]:
            self.positions.append(now - datetime.fromisoformat(p["time"]).timestamp())
        for a in message["alerts"]:
            self.alerts.append(now - datetime.fromisoformat(a["event"]["at"]).timestamp())


async def _run(settings: Settings, folder: Path, seconds: float, seed: int) -> None:
    city = generate_city(seed, scenarios=DEMO_SCENARIOS)
    broker_port, api_port = free_port(), free_port()
    async with scratch_database(settings.database_url) as url:
        await prepare_database(url)
        async with connection_pool(url) as pool:
            async with pool.connection() as conn:
                await seed_city(conn, city)
                await prepare_run(conn, city, start=datetime.now(UTC), time_scale=1.0)
                officer = (f"bench-live-{secrets.token_hex(3)}", secrets.token_urlsafe(16))
                await store.users.create_user(
                    conn,
                    username=officer[0],
                    password_hash=hash_password(officer[1]),
                    role="officer",
                )
            config = mosquitto_config(port=broker_port, persistence_dir=None)
            with running_mosquitto(folder, config, broker_port):
                serve = settings.model_copy(
                    update={
                        "database_url": url,
                        "mqtt_host": "127.0.0.1",
                        "mqtt_port": broker_port,
                        "mqtt_username": None,
                        "mqtt_password": None,
                        "api_host": "127.0.0.1",
                        "api_port": api_port,
                    }
                )
                server, background = monitoring(pool, serve)
                watch = _Watch()
                devices = simulate_city(
                    city, host="127.0.0.1", port=broker_port, interval_s=serve.demo_interval_s
                )
                following = _follow_then_stop(
                    server, watch, f"127.0.0.1:{api_port}", officer, seconds
                )
                await run_until_stopped(server, *background, devices, following)
    _report(watch, seconds, sum(len(s.devices) for s in city.subjects))


async def _follow_then_stop(
    server: uvicorn.Server, watch: _Watch, address: str, officer: tuple[str, str], seconds: float
) -> None:
    try:
        await watch.follow(address, officer, seconds)
    finally:
        server.should_exit = True


def _report(watch: _Watch, seconds: float, devices: int) -> None:
    positions, alerts = np.array(watch.positions), np.array(watch.alerts)
    print_table(
        [
            ("city: devices / run", f"{devices} / {seconds:.0f} s"),
            ("positions shown / alert steps shown", f"{positions.size:,} / {alerts.size:,}"),
            ("fix time -> on the feed, positions: p50 / p99 / max", ms(positions)),
            ("alert step stored -> on the feed: p50 / p99 / max", ms(alerts)),
        ]
    )
