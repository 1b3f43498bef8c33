"""The demo: everything embedded, a synthetic city seeded once and simulated live."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import store
from ccmon.city import prepare_run, seed_city
from ccmon.embedded import embedded_broker, embedded_database
from ccmon.services import (
    connection_pool,
    monitoring,
    prepare_database,
    run_until_stopped,
)
from simulators import DEMO_SCENARIOS, Outage, generate_city, simulate_city

if TYPE_CHECKING:
    from pathlib import Path

    from ccmon.settings import Settings

log = logging.getLogger(__name__)

# One wristband loses its link for a while, then uploads what it buffered as one batch.
DEMO_OUTAGES = {"wb-0013": Outage(start_s=15.0, end_s=35.0)}


def _demo_password(data_dir: Path, new_password: str | None) -> str:
    """The demo keeps the generated admin password in its data folder (mode 600) so a rerun
    can print it again; a real deployment prints it once and keeps it nowhere."""
    path = data_dir / "admin-password"
    if new_password is not None:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new_password + "\n")
        return new_password
    return path.read_text(encoding="utf-8").strip() if path.exists() else "(see first run)"


def _banner(settings: Settings, data_dir: Path, password: str) -> None:
    base = f"http://{settings.api_host}:{settings.api_port}"
    print(
        f"ccmon demo running (data in {data_dir})\n"
        f"  console   {base}/\n"
        f"  API       {base}/api/v1/alerts\n"
        f"  API docs  {base}/docs\n"
        f"  user      admin\n"
        f"  password  {password}\n"
        f"  MQTT      {settings.mqtt_host}:{settings.mqtt_port}\n"
        "Ctrl-C stops everything.",
        flush=True,
    )


async def run_demo(settings: Settings) -> None:
    try:
        await _run_demo(settings)
    finally:
        print("ccmon demo stopped.", flush=True)


async def _run_demo(settings: Settings) -> None:
    data_dir = settings.data_dir.resolve()
    city = generate_city(settings.demo_seed, scenarios=DEMO_SCENARIOS)
    async with embedded_database(data_dir / "postgres") as url:
        new_password = await prepare_database(url)
        async with connection_pool(url) as pool:
            async with pool.connection() as conn:
                if await store.subjects.count_subjects(conn) == 0:
                    await seed_city(conn, city)
                await prepare_run(conn, city, start=datetime.now(UTC), time_scale=1.0)
            async with embedded_broker(settings.mqtt_host, settings.mqtt_port):
                server, background = monitoring(pool, settings)
                password = _demo_password(data_dir, new_password)
                await run_until_stopped(
                    server,
                    *background,
                    simulate_city(
                        city,
                        host=settings.mqtt_host,
                        port=settings.mqtt_port,
                        interval_s=settings.demo_interval_s,
                        seed=settings.demo_seed,
                        outages=DEMO_OUTAGES,
                    ),
                    ready=lambda: _banner(settings, data_dir, password),
                )
