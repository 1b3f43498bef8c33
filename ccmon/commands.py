"""The non-demo commands: serve, migrate, seed-city, simulate."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import store
from ccmon.city import prepare_run, progress_line, seed_city, summary
from ccmon.embedded import embedded_database
from ccmon.mosquitto import ACL_FILE, PASSWORD_FILE, new_device_password, write_auth_files
from ccmon.services import (
    connection_pool,
    monitoring,
    prepare_database,
    run_until_stopped,
)
from simulators import City, SimulationReport, generate_city, simulate_city

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping
    from pathlib import Path

    from ccmon.settings import Settings
    from simulators import Plan


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
            server, background = monitoring(pool, settings)
            api_url = f"http://{settings.api_host}:{settings.api_port}"
            await run_until_stopped(
                server,
                *background,
                ready=lambda: print(f"ccmon API on {api_url} (console at /)", flush=True),
            )


async def migrate(settings: Settings) -> None:
    async with database(settings) as url:
        password = await prepare_database(url)
        if password is not None:
            print(f"created user admin with password {password} (shown once)", flush=True)


def plan_city(plan: Plan) -> City:
    return generate_city(
        plan.seed, subjects=plan.subjects, wristbands=plan.wristbands, scenarios=plan.scenarios
    )


async def seed(settings: Settings, plan: Plan) -> None:
    """Register the plan's city in an empty store, with what its scenarios need from now on
    (so run `ccmon simulate` with the same plan right after)."""
    city = plan_city(plan)
    async with database(settings) as url, connection_pool(url) as pool:
        async with pool.connection() as conn:
            if await store.subjects.count_subjects(conn) > 0:
                raise SystemExit(
                    "the store already has subjects; seed-city only seeds an empty one"
                )
            await seed_city(conn, city)
            await prepare_run(conn, city, start=datetime.now(UTC), time_scale=plan.time_scale)
        print(
            f"seeded the synthetic city: {len(city.subjects)} subjects,"
            f" {len(plan.scenarios)} playing scenarios",
            flush=True,
        )


async def simulate(
    settings: Settings,
    plan: Plan,
    *,
    duration_s: float | None,
    credentials: Mapping[str, tuple[str, str]],
) -> None:
    """Publish the plan's devices to the broker (each device with its `credentials`, if
    any), with a progress line every 5 s and a summary per scenario at the end (also when
    stopped with Ctrl-C)."""
    report = SimulationReport()
    try:
        await simulate_city(
            plan_city(plan),
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            interval_s=plan.interval_s,
            duration_s=duration_s,
            seed=plan.seed,
            time_scale=plan.time_scale,
            credentials=credentials,
            report=report,
            progress=lambda r, elapsed: print(progress_line(r, elapsed), flush=True),
        )
    finally:
        print(summary(report), flush=True)


async def device_credentials(settings: Settings, *, code: str) -> None:
    """Give a device a broker account: a new password, printed once, its hash stored."""
    password, hashed = new_device_password()
    async with (
        database(settings) as url,
        connection_pool(url) as pool,
        pool.connection() as conn,
    ):
        if not await store.devices.set_mqtt_password(conn, code=code, password_hash=hashed):
            raise SystemExit(f"ccmon: no device {code!r}")
    print(
        f"device {code}: MQTT username {code}, password {password} (shown once;"
        " run `ccmon mosquitto-auth` and reload the broker to let it in)",
        flush=True,
    )


async def mosquitto_auth(settings: Settings, *, folder: Path, processes: int = 1) -> None:
    """Write the broker's password file and ACL from the device registry, with ingest's own
    accounts (CCMON_MQTT_USERNAME / CCMON_MQTT_PASSWORD; for `processes` ingest processes,
    the second logs in as `<username>-2`, ...; each command channel as `...-commands`)."""
    if not settings.mqtt_username or not settings.mqtt_password:
        raise SystemExit(
            "ccmon: set CCMON_MQTT_USERNAME and CCMON_MQTT_PASSWORD: ingest's own account"
        )
    async with (
        database(settings) as url,
        connection_pool(url) as pool,
        pool.connection() as conn,
    ):
        accounts = await store.devices.broker_accounts(conn)
    await asyncio.to_thread(
        write_auth_files,
        folder,
        accounts,
        ingest=(settings.mqtt_username, settings.mqtt_password),
        processes=processes,
    )
    print(
        f"wrote {folder / PASSWORD_FILE} and {folder / ACL_FILE}: ingest and"
        f" {len(accounts)} devices; reload the broker (kill -HUP) to apply",
        flush=True,
    )
