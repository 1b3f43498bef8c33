"""A backlog is not silence: ccmon started with ten minutes of fixes of 100 devices waiting in
the broker reads them all and calls none of those devices silent, while a device that really
stopped ten minutes ago is still called silent, once the backlog is read."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from domain import AlertKind
from simulators import fix_payload
from tests.helpers import offset, seed_subject, until
from tests.running import levels, processed, publish, running_pipeline

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker
    from tests.helpers import Seeded

DEVICES = 100
BACKLOG_S = 600
EVERY_S = 10
SILENCES = [AlertKind.DEVICE_SILENT.value, AlertKind.SUBJECT_SILENT.value]


def _fix(seeded: Seeded, t: float, seq: int) -> tuple[str, bytes]:
    lon, lat = offset(0.0, 0.0)
    payload = fix_payload(
        when=datetime.fromtimestamp(t, UTC), lon=lon, lat=lat, accuracy=10, battery=80, seq=seq
    )
    return f"cc/v1/devices/{seeded.device_code}/fix", payload


async def _silences(pool: AsyncConnectionPool[Any], subjects: list[int]) -> dict[int, set[str]]:
    """Every silence alert these subjects ever had, in any state."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT subject_id, kind FROM alerts WHERE kind = ANY(%s) AND subject_id = ANY(%s)",
            (SILENCES, subjects),
        )
        out: dict[int, set[str]] = {}
        for subject, kind in await cur.fetchall():
            out.setdefault(int(subject), set()).add(str(kind))
        return out


async def test_a_backlog_read_at_start_is_not_silence(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = [await seed_subject(pool, code=f"backlog-{i}") for i in range(DEVICES + 1)]
    talking, stopped = seeded[:DEVICES], seeded[DEVICES]
    now = time.time()
    # Running (silence only after an hour here): every device's fix of ten minutes ago is
    # stored, and ingest's persistent session exists from now on.
    async with running_pipeline(pool, mosquitto, client_id="backlog") as p:
        await publish(mosquitto, [_fix(s, now - BACKLOG_S, 0) for s in seeded])
        await until(lambda: processed(p, len(seeded)), what="the fixes of ten minutes ago")
    # ccmon is down while 100 devices report every 10 s for ten minutes; one stopped.
    backlog = [
        _fix(s, now - BACKLOG_S + k * EVERY_S, k)
        for k in range(1, BACKLOG_S // EVERY_S + 1)
        for s in talking
    ]
    await publish(mosquitto, backlog)
    # Started again where a device is silent after two minutes.
    quick = levels(phone_interval_s=60, silence_grace_s=60)
    async with running_pipeline(pool, mosquitto, client_id="backlog", policy=quick) as p:
        await until(lambda: processed(p, len(backlog)), timeout=120, what="the backlog read")

        async def stopped_alerted() -> bool:
            silences = await _silences(pool, [stopped.subject_id])
            # its only device: one alert, the subject's
            return silences.get(stopped.subject_id) == {AlertKind.SUBJECT_SILENT.value}

        await until(stopped_alerted, timeout=10, what="the stopped device called silent")
    assert p.stats.stored == len(backlog)
    assert await _silences(pool, [s.subject_id for s in talking]) == {}
