"""The Prometheus endpoint reports what the real pipeline did and what waits in the store."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

import alerts
import store
from api import create_app
from ccmon.metrics import metrics_router
from domain import AlertKind, Finding
from tests.helpers import seed_subject, until
from tests.running import processed, publish, running_pipeline, walk

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from ingest import Message
    from tests.conftest import Broker


def samples(text: str) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


async def test_metrics_count_what_ingest_did_and_what_waits(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="metrics")
    async with pool.connection() as conn:
        await alerts.notices.record_findings(
            conn, [Finding(AlertKind.SOS, seeded.subject_id, time.time(), "sos")], actor="t"
        )
        await store.subscriptions.create_subscription(
            conn,
            url="http://127.0.0.1:9/nobody",
            secret="a-secret-of-enough-length",
            office_id=None,
            kinds=None,
            min_severity="normal",
            actor="t",
        )
        await alerts.notices.record_findings(
            conn, [Finding(AlertKind.TAMPER, seeded.subject_id, time.time(), "cut")], actor="t"
        )
    queue: asyncio.Queue[Message] = asyncio.Queue()
    async with running_pipeline(pool, mosquitto, client_id="metrics", queue=queue) as p:
        await publish(mosquitto, [*walk(seeded, [0.0, 10.0]), ("cc/v1/devices/metrics/fix", b"{")])
        await until(lambda: processed(p, 3), what="the messages processed")
        app = create_app(pool, routers=[metrics_router(pool, p, queue)])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ccmon"
        ) as http:
            answer = await http.get("/api/v1/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    got = samples(answer.text)
    assert got["ccmon_fixes_stored_total"] == 2
    assert got["ccmon_quarantined_total"] == 1
    assert got["ccmon_messages_received_total"] == 3
    assert got["ccmon_alerts_opened_total"] == 0  # fixes inside the zone: the rules opened none
    assert got["ccmon_batch_latency_seconds_count"] == got["ccmon_batches_total"] >= 1
    assert 0 < got["ccmon_batch_latency_seconds_sum"] < 10
    assert got["ccmon_live_alerts{severity=critical,state=open}"] == 2
    assert got["ccmon_delivery_pending"] == 1  # the tamper event, for the new subscription
    assert got["ccmon_ingest_queue"] == 0
