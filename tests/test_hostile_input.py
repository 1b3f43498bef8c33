"""Hostile input through the real parts: a running `ccmon serve` fed a corpus of malicious and
malformed messages, interleaved with a subject's good fixes, through Mosquitto, stays up,
stores and judges every good fix, quarantines every hostile message with its reason, and
starts again afterwards without a crash loop; a later step that fails for one message
costs only that message."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from paho.mqtt import publish as paho_publish

from ccmon.bench.common import free_port
from domain import AlertKind
from ingest import Pipeline
from simulators import fix_payload
from tests.helpers import (
    OWNTRACKS_KEY,
    now_minus,
    offset,
    seed_owntracks_phone,
    seed_subject,
    until,
)
from tests.hostile import hostile_corpus
from tests.running import live_alerts, processed, publish, running_pipeline, serve, stop, subscribed

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

    from domain import FixBatch
    from geofence import Evaluation
    from tests.conftest import Broker


async def _quarantined(pool: AsyncConnectionPool[Any], topics: set[str]) -> list[str]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT reason FROM quarantine WHERE topic = ANY(%s) ORDER BY id", (sorted(topics),)
        )
        return [str(r[0]) for r in await cur.fetchall()]


async def _stored_seqs(pool: AsyncConnectionPool[Any], subject_id: int) -> set[int]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT seq FROM fixes WHERE subject_id = %s", (subject_id,))
        return {int(r[0]) for r in await cur.fetchall()}


def _good(code: str, seq: int, *, east_m: float, seconds_ago: float) -> tuple[str, bytes]:
    lon, lat = offset(east_m, 0.0)
    payload = fix_payload(
        when=now_minus(seconds_ago), lon=lon, lat=lat, accuracy=10, battery=80, seq=seq
    )
    return f"cc/v1/devices/{code}/fix", payload


async def test_ccmon_serve_survives_a_hostile_corpus_and_a_restart(
    pool: AsyncConnectionPool[Any], database_url: str, mosquitto: Broker, tmp_path: Path
) -> None:
    seeded = await seed_owntracks_phone(pool, "hostile")
    corpus = hostile_corpus(
        device=seeded.device_code, owntracks="hostile/phone", key=OWNTRACKS_KEY, now=time.time()
    )
    oversized = ("owntracks/hostile/phone", b"[" + b" " * (300 * 1024) + b"]")
    # 40 good fixes, one every hostile few: 20 at home, then 20 out of the district.
    good = [
        _good(seeded.device_code, i, east_m=0.0 if i < 20 else 1500.0, seconds_ago=80 - i)
        for i in range(40)
    ]
    stream: list[tuple[str, bytes]] = []
    per_good = len(corpus) // len(good) + 1
    for i, fix in enumerate(good):
        stream += [fix, *corpus[i * per_good : (i + 1) * per_good]]
    assert len(stream) == len(corpus) + len(good)

    log = tmp_path / "serve.log"
    server = await serve(
        database_url, mosquitto, log, client_id="ccmon-hostile", api_port=free_port()
    )
    try:
        await until(lambda: subscribed(log), timeout=60, what="ccmon serve subscribed")
        # The broker refuses a payload over its limit (ingest's) and drops the sender.
        await asyncio.to_thread(
            paho_publish.single, *oversized, hostname=mosquitto.host, port=mosquitto.port
        )
        await publish(mosquitto, stream)
        # The first good fix after the corpus is stored at once: nothing stalled.
        after = _good(seeded.device_code, 100, east_m=1500.0, seconds_ago=0)
        sent = time.monotonic()
        await publish(mosquitto, [after])
        await until(lambda: _has(pool, seeded.subject_id, 100), timeout=10, what="the fix after")
        print(f"the good fix after the corpus stored in {time.monotonic() - sent:.2f} s")
        assert server.returncode is None, "ccmon serve exited"
        assert await _stored_seqs(pool, seeded.subject_id) == {*range(40), 100}
        # Judged: the walk out of the district is one zone exit.
        exits = [
            a
            for a in await live_alerts(pool, seeded.subject_id)
            if a.kind == AlertKind.ZONE_EXIT.value
        ]
        assert len(exits) == 1
        topics = {t for t, _ in corpus} | {oversized[0]}
        reasons = await _quarantined(pool, topics)
        # Every hostile message once, with a reason; the oversized one the broker refused
        # (its limit is ingest's), so it never reached ccmon.
        assert len(reasons) == len(corpus), (len(reasons), len(corpus))
        assert all(reasons)
        for expected in (
            "s in the future",  # the year-9999 status that stopped ccmon
            "tst 'nan' is not a finite number",
            "batt 'nan' is not a finite number",
            "JSON nested 50000 deep",
            "unknown device 'nobody-registered'",
            "cannot decrypt",
        ):
            assert any(expected in r for r in reasons), expected
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
        # Restarted: the same broker session, nothing left to crash on.
        await stop(server)
        server = await serve(
            database_url, mosquitto, log, client_id="ccmon-hostile", api_port=free_port()
        )
        await until(lambda: _subscribed_twice(log), timeout=60, what="serve subscribed again")
        await publish(mosquitto, [_good(seeded.device_code, 101, east_m=0.0, seconds_ago=0)])
        await until(lambda: _has(pool, seeded.subject_id, 101), timeout=10, what="a new fix")
        await asyncio.sleep(1.0)
        assert server.returncode is None, "ccmon serve exited after the restart"
        assert len(await _quarantined(pool, topics)) == len(corpus)  # nothing redelivered
    finally:
        await stop(server)


async def _has(pool: AsyncConnectionPool[Any], subject_id: int, seq: int) -> bool:
    return seq in await _stored_seqs(pool, subject_id)


async def _subscribed_twice(log: Path) -> bool:
    text = await asyncio.to_thread(log.read_text, encoding="utf-8", errors="replace")
    return text.count("subscribed on") >= 2


class _PoisonedPipeline(Pipeline):
    """A geofence that fails for one position, as a flaw in a later step would."""

    async def _evaluate(self, batch: FixBatch) -> Evaluation:
        if (batch.accuracy == 13.0).any():
            raise ValueError("geofence flaw")
        return await super()._evaluate(batch)


async def test_a_step_that_fails_for_one_message_costs_only_that_message(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="poisoned")
    topic = f"cc/v1/devices/{seeded.device_code}/fix"
    lon, lat = offset(0.0, 0.0)
    messages = [
        (
            topic,
            fix_payload(
                when=now_minus(60 - i),
                lon=lon,
                lat=lat,
                accuracy=13.0 if i == 37 else 10.0,
                battery=80,
                seq=i,
            ),
        )
        for i in range(60)
    ]
    async with running_pipeline(
        pool, mosquitto, client_id="poisoned", pipeline_class=_PoisonedPipeline
    ) as p:
        await publish(mosquitto, messages)
        await until(lambda: processed(p, 60), what="every message")
        assert (p.stats.stored, p.stats.quarantined) == (59, 1)
    assert await _stored_seqs(pool, seeded.subject_id) == set(range(60)) - {37}
    (reason,) = await _quarantined(pool, {topic})
    assert reason == "pipeline error: ValueError: geofence flaw"
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT payload FROM quarantine WHERE topic = %s", (topic,))
        row = await cur.fetchone()
    assert row is not None
    assert json.loads(bytes(row[0]))["seq"] == 37
