"""`ccmon bench delivery`: alert events through the outbox to a webhook receiver on loopback.

Two phases against one receiver in a separate process (answering 200 at once):
- drain: N events committed at once, then timed until all have arrived (deliveries/s);
- paced: events committed at a steady rate (default 1,000/s) while the worker delivers; the
  time from each event's commit to its arrival at the receiver (p50 / p99 / max).
PostgreSQL is CCMON_DATABASE_URL, or a throw-away embedded server; the database gets the
schema and a bench office, subject and subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import secrets
import time
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import alerts
import store
from alerts import DeliveryConfig, DeliveryWorker, Destinations, WebhookChannel
from ccmon.bench.common import free_port, ms, print_table, scratch_database
from ccmon.services import connection_pool
from domain import AlertKind, Finding, SupervisionLevel

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool
    from starlette.requests import Request

_KINDS = list(AlertKind)


def _receiver(port: int) -> None:
    """The receiving end, in its own process: notes each event id and when it arrived."""
    arrived: list[tuple[int, float]] = []

    async def hook(request: Request) -> Response:
        arrived.append((int(request.headers["x-ccmon-event"]), time.time()))
        await request.body()
        return Response(status_code=204)

    async def results(_request: Request) -> JSONResponse:
        return JSONResponse(arrived)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/results", results)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _prepare(url: str, port: int) -> int:
    """The bench subject, whose office the one subscription covers."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await store.migrate.migrate(conn)
        office = await store.offices.create_office(conn, name="bench office")
        subject = await store.subjects.create_subject(
            conn, office_id=office, name="bench subject", level=SupervisionLevel.STRICT
        )
        await store.subscriptions.create_subscription(
            conn,
            url=f"http://127.0.0.1:{port}/hook",
            secret=secrets.token_urlsafe(32),
            office_id=office,
            kinds=None,
            min_severity="normal",
            actor="bench",
        )
    return subject


async def _commit(pool: AsyncConnectionPool[Any], subject_id: int, n: int) -> dict[int, float]:
    """n events in one transaction: event id -> commit time."""
    findings = [
        Finding(_KINDS[i % len(_KINDS)], subject_id, time.time(), "bench") for i in range(n)
    ]
    async with pool.connection() as conn:
        async with conn.transaction():
            changes = await alerts.notices.record_findings(conn, findings, actor="bench")
        committed = time.time()
    return {c.event_id: committed for c in changes}


async def _paced(
    pool: AsyncConnectionPool[Any], subject_id: int, rate: float, seconds: float
) -> dict[int, float]:
    """Commit `rate` events a second for `seconds`, in 10 ms slices."""
    committed: dict[int, float] = {}
    start = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) - sent
        if due > 0:
            committed |= await _commit(pool, subject_id, due)
            sent += due
        await asyncio.sleep(0.01)
    return committed


async def _arrivals(client: httpx.AsyncClient, port: int) -> dict[int, float]:
    got = (await client.get(f"http://127.0.0.1:{port}/results")).json()
    return {int(e): float(t) for e, t in got}


async def _until_arrived(
    client: httpx.AsyncClient, port: int, events: set[int], timeout_s: float
) -> dict[int, float]:
    deadline = time.monotonic() + timeout_s
    while True:
        arrived = await _arrivals(client, port)
        if events <= arrived.keys() or time.monotonic() > deadline:
            return arrived
        await asyncio.sleep(0.2)


async def _run(url: str | None, port: int, drain: int, rate: float, seconds: float) -> None:
    async with scratch_database(url) as dsn:
        subject_id = await _prepare(dsn, port)
        config = DeliveryConfig()
        async with (
            connection_pool(dsn) as pool,
            httpx.AsyncClient() as client,
            WebhookChannel(
                timeout_s=5.0,
                connections=config.per_subscription,
                destinations=Destinations(["127.0.0.0/8"]),  # its receiver is on loopback
            ) as webhooks,
        ):
            w = DeliveryWorker(pool, {"webhook": webhooks}, config)
            # Drain: everything committed first, the worker started after.
            backlog = await _commit(pool, subject_id, drain)
            started = time.time()
            task = asyncio.create_task(w.run())
            arrived = await _until_arrived(client, port, set(backlog), 120)
            drained = max(arrived[e] for e in backlog) - started
            got_backlog = len(backlog.keys() & arrived.keys())
            # Paced: events committed at `rate` while the worker delivers.
            paced = await _paced(pool, subject_id, rate, seconds)
            arrived = await _until_arrived(client, port, set(paced), 60)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    late = np.array([arrived[e] - c for e, c in paced.items() if e in arrived])
    rows = [
        ("drain: events committed, then delivered", f"{got_backlog:,} of {len(backlog):,}"),
        ("drain: deliveries/s", f"{got_backlog / drained:,.0f}"),
        (f"paced: events at {rate:,.0f}/s for {seconds:g} s", f"{len(paced):,}"),
        ("paced: delivered", f"{late.size:,} of {len(paced):,}"),
        ("paced: commit -> received p50 / p99 / max", ms(late)),
    ]
    print_table(rows)


def run(*, database_url: str | None, drain: int, rate: float, seconds: float) -> None:
    port = free_port()
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receiver, args=(port,), daemon=True
    )
    receiver.start()
    try:
        _wait_listening(port)
        asyncio.run(_run(database_url, port, drain, rate, seconds))
    finally:
        receiver.terminate()
        receiver.join(5)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/results", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.1)
        else:
            return
    raise SystemExit("the bench receiver did not start")
