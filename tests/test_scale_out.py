"""Ingest processes sharing the devices' messages through an MQTT 5 shared subscription:
every fix is stored once, each subject's alert is decided exactly as one process would decide
it (although consecutive fixes of a subject reach different processes), and the clock rules
move to another process when the one running them stops."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import aiomqtt
import httpx

from ccmon.bench.common import free_port
from simulators import fix_payload
from tests.helpers import offset, seed_subject, until
from tests.running import (
    history,
    levels,
    live_alerts,
    publish,
    running_pipeline,
    serve,
    stop,
    subscribed,
    walk,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline
    from tests.conftest import Broker

# An odd number, so that consecutive rounds of one message per subject do not send a subject's
# fixes to the same process every time under the broker's round robin.
SUBJECTS = 41
# Per subject, one fix a second: inside, then outside (the normal level confirms an exit by
# its third fix outside), then inside again (the third fix inside clears it).
PATH_M = [0.0] * 4 + [1500.0] * 6 + [0.0] * 6
OPENED_AT, CLEARED_AT = 6, 12  # the fixes that confirm


async def _count(pool: AsyncConnectionPool[Any], query: str) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute(query)).fetchone()
    assert row is not None
    return int(row[0])


async def _stored_by(api_port: int) -> int:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{api_port}/api/v1/metrics")).text
    found = re.search(r"^ccmon_fixes_stored_total (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return int(float(found.group(1)))


async def test_two_ingest_processes_lose_nothing_and_double_nothing(
    pool: AsyncConnectionPool[Any], database_url: str, mosquitto: Broker, tmp_path: Path
) -> None:
    seeded = [await seed_subject(pool, code=f"shared-{i}") for i in range(SUBJECTS)]
    start = datetime.now(UTC) - timedelta(seconds=60)
    ports = [free_port(), free_port()]
    logs = [tmp_path / "serve-a.log", tmp_path / "serve-b.log"]
    servers = [
        await serve(
            database_url,
            mosquitto,
            log,
            client_id=f"ccmon-shared-{i}",
            api_port=port,
            env={"CCMON_MQTT_SHARE_GROUP": "ccmon-two"},
        )
        for i, (log, port) in enumerate(zip(logs, ports, strict=True))
    ]
    rng = random.Random(7)
    stored_at: list[datetime] = []  # when each round was seen stored
    try:
        for log in logs:
            await until(partial(subscribed, log), timeout=60, what="both subscribed")
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="shared-pub") as c:
            for step, east in enumerate(PATH_M):
                lon, lat = offset(east, 0.0)
                payload = fix_payload(
                    when=start + timedelta(seconds=step),
                    lon=lon,
                    lat=lat,
                    accuracy=10,
                    battery=80,
                    seq=step,
                )
                for s in rng.sample(seeded, len(seeded)):
                    await c.publish(f"cc/v1/devices/{s.device_code}/fix", payload, qos=1)
                # One round at a time: a subject's next fix is sent once its last is stored.
                total = SUBJECTS * (step + 1)
                stored = partial(_at_least, pool, "SELECT count(*) FROM fixes", total)
                await until(stored, timeout=30, what=f"round {step} stored")
                stored_at.append(datetime.now(UTC))
        await asyncio.sleep(1.0)  # anything stored twice or decided late would show now
        assert await _count(pool, "SELECT count(*) FROM fixes") == SUBJECTS * len(PATH_M)
        assert await _count(
            pool, "SELECT count(*) FROM (SELECT DISTINCT device_id, time, seq FROM fixes) f"
        ) == SUBJECTS * len(PATH_M)
        by_process = [await _stored_by(port) for port in ports]
        assert sum(by_process) == SUBJECTS * len(PATH_M)
        assert min(by_process) > 0, f"one process did all the work: {by_process}"
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT a.subject_id, a.kind, a.fix_time, a.condition,"
                " array_agg(e.action ORDER BY e.id), array_agg(e.at ORDER BY e.id)"
                " FROM alerts a JOIN alert_events e ON e.alert_id = a.id"
                " GROUP BY a.id ORDER BY a.subject_id"
            )
            alerts = await cur.fetchall()
        assert [a[0] for a in alerts] == [s.subject_id for s in seeded]
        for _, kind, fix_time, condition, actions, (opened, cleared) in alerts:
            assert (kind, condition, actions) == ("zone_exit", "cleared", ["opened", "cleared"])
            # Decided by the very fixes that confirm, in their rounds, as one process would.
            assert fix_time == start + timedelta(seconds=OPENED_AT)
            assert stored_at[OPENED_AT - 1] < opened <= stored_at[OPENED_AT]
            assert stored_at[CLEARED_AT - 1] < cleared <= stored_at[CLEARED_AT]
    finally:
        for server in servers:
            await stop(server)


async def _at_least(pool: AsyncConnectionPool[Any], query: str, n: int) -> bool:
    return await _count(pool, query) >= n


async def test_the_clock_rules_move_to_the_other_process_with_what_they_know(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    """The process running the clock rules stops; the other takes them over at its next
    tick, knows the silences already raised (no repeat) and goes on (clears one)."""
    seeded = await seed_subject(pool, code="shared-clock")
    quick = levels(phone_interval_s=1.0, silence_grace_s=1.0)
    sharing = partial(running_pipeline, pool, mosquitto, policy=quick, share_group="ccmon-clock")
    async with contextlib.AsyncExitStack() as first:
        a = await first.enter_async_context(sharing(client_id="clock-a"))
        await until(partial(_leads, a), what="the first process leading")
        silent = partial(_histories, pool, seeded.subject_id)
        await until(
            partial(_equals, silent, {"subject_silent": ["opened"]}),
            what="the silences raised",
        )
        async with sharing(client_id="clock-b") as b:
            await asyncio.sleep(0.5)
            assert not b.leading
            await first.aclose()
            await until(partial(_leads, b), what="the second process taking over")
            await asyncio.sleep(1.0)  # ticks enough to have repeated anything it did not know
            assert await silent() == {"subject_silent": ["opened"]}
            await publish(mosquitto, walk(seeded, [0.0]))
            await until(
                partial(_contains, silent, "cleared"), what="the silence cleared by the second"
            )


async def _leads(p: Pipeline) -> bool:
    return p.leading


async def _histories(pool: AsyncConnectionPool[Any], subject_id: int) -> dict[str, list[str]]:
    return {a.kind: await history(pool, a.id) for a in await live_alerts(pool, subject_id)}


async def _equals(
    histories: Callable[[], Awaitable[dict[str, list[str]]]], expected: dict[str, list[str]]
) -> bool:
    return await histories() == expected


async def _contains(histories: Callable[[], Awaitable[dict[str, list[str]]]], step: str) -> bool:
    return all(step in h for h in (await histories()).values())
