"""The non-demo commands: serve, migrate, seed-city, simulate."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import store
from ccmon.demo import seed_city as seed_city_into
from ccmon.embedded import embedded_database
from ccmon.services import (
    connection_pool,
    monitoring,
    prepare_database,
    run_until_stopped,
)
from simulators import generate_city, simulate_city

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ccmon.settings import Settings


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[str]:
    """The configured database, or the embedded one when CCMON_DATABASE_URL is unset."""
    if settings.database_url:
        yield settings.database_url
    else:
        async with embedded_database(settings.data_dir.resolve() / "postgres") as url:
            yield url


async def serve(settings: Settings) -> None:
    async with database(settings) as url:
        password = await prepare_database(url)
        if password is not None:
            print(f"created user admin with password {password} (shown once)", flush=True)
        async with connection_pool(url) as pool:
            server, ingest = monitoring(pool, settings)
            api_url = f"http://{settings.api_host}:{settings.api_port}"
            await run_until_stopped(
                server, ingest, ready=lambda: print(f"ccmon API on {api_url}", flush=True)
            )


async def migrate(settings: Settings) -> None:
    async with database(settings) as url:
        password = await prepare_database(url)
        if password is not None:
            print(f"created user admin with password {password} (shown once)", flush=True)


async def seed_city(settings: Settings, *, seed: int) -> None:
    async with database(settings) as url, connection_pool(url) as pool:
        async with pool.connection() as conn:
            if await store.count_subjects(conn) > 0:
                raise SystemExit(
                    "the store already has subjects; seed-city only seeds an empty one"
                )
            await seed_city_into(conn, generate_city(seed))
        print("seeded the synthetic city", flush=True)


async def simulate(
    settings: Settings, *, seed: int, interval_s: float, duration_s: float | None
) -> None:
    report = await simulate_city(
        generate_city(seed),
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        interval_s=interval_s,
        duration_s=duration_s,
        seed=seed,
    )
    print(
        f"{report.devices} devices published {report.fixes} fixes"
        f" ({report.batches} batches after outages) and {report.statuses} status events",
        flush=True,
    )
