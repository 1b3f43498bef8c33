"""`GET /api/v1/metrics` for Prometheus: what ingest received, stored, refused; how long a
batch takes; what waits (ccmon's own queue, the delivery outbox); live alerts.

Counters come from the pipeline in this process; the alert and outbox figures from the
store at scrape time (so every process of a scaled-out deployment reports the same).
Unauthenticated, like /health: counts only, nothing about any person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

import store

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Iterator

    from prometheus_client.core import Metric
    from psycopg_pool import AsyncConnectionPool

    from ingest import Message, Pipeline


class _Collected:
    """A Prometheus collector over figures gathered just before the scrape."""

    def __init__(self) -> None:
        self.metrics: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        yield from self.metrics


def _pipeline_metrics(pipeline: Pipeline, queue: asyncio.Queue[Message]) -> list[Metric]:
    s = pipeline.stats
    counters = [
        ("ccmon_messages_received", "MQTT and HTTP messages taken in", s.received),
        ("ccmon_fixes_stored", "fixes stored (new)", s.stored),
        ("ccmon_fixes_duplicate", "fixes already stored (redeliveries)", s.duplicates),
        ("ccmon_quarantined", "messages and items quarantined with a reason", s.quarantined),
        ("ccmon_device_events_stored", "device events stored", s.events),
        ("ccmon_alerts_opened", "alerts opened by the rules", s.alerts_opened),
        ("ccmon_alert_changes", "alert events written by the rules", s.alert_changes),
        ("ccmon_batches", "micro-batches processed", s.batches),
    ]
    out: list[Metric] = [CounterMetricFamily(n, h, value=v) for n, h, v in counters]
    out.append(
        SummaryMetricFamily(
            "ccmon_batch_latency_seconds",
            "from a batch's oldest message reaching ccmon to the batch committed",
            count_value=s.batches,
            sum_value=s.latency_sum_s,
        )
    )
    out.append(
        GaugeMetricFamily(
            "ccmon_batch_latency_max_seconds", "the slowest batch since start", s.latency_max_s
        )
    )
    out.append(
        GaugeMetricFamily(
            "ccmon_ingest_queue", "messages received but not yet in a batch", queue.qsize()
        )
    )
    out.append(
        GaugeMetricFamily(
            "ccmon_clock_rules_leading",
            "1 in the one ingest process running the clock rules (silence, curfew start)",
            int(pipeline.leading),
        )
    )
    return out


async def _store_metrics(pool: AsyncConnectionPool[Any]) -> list[Metric]:
    async with pool.connection() as conn:
        alerts = await store.alerts.live_alert_counts(conn)
        backlog = await store.outbox.delivery_backlog(conn)
    live = GaugeMetricFamily(
        "ccmon_live_alerts", "open and acknowledged alerts", labels=["state", "severity"]
    )
    for (state, severity), n in sorted(alerts.items()):
        live.add_metric([state, severity], n)
    return [
        live,
        GaugeMetricFamily("ccmon_delivery_pending", "deliveries waiting", backlog.pending),
        GaugeMetricFamily(
            "ccmon_delivery_oldest_due_seconds",
            "how long the oldest due delivery has waited",
            backlog.oldest_due_s,
        ),
        GaugeMetricFamily("ccmon_delivery_dead", "dead letters", backlog.dead),
    ]


def metrics_router(
    pool: AsyncConnectionPool[Any], pipeline: Pipeline, queue: asyncio.Queue[Message]
) -> APIRouter:
    registry = CollectorRegistry(auto_describe=False)
    collected = _Collected()
    registry.register(collected)
    router = APIRouter(tags=["health"])

    @router.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus text format."""
        collected.metrics = _pipeline_metrics(pipeline, queue) + await _store_metrics(pool)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
