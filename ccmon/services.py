"""Wiring: database pool, migrations, the ingest pipeline and the API server, run together."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import uvicorn
from psycopg_pool import AsyncConnectionPool

import store
from alerts import (
    DeliveryConfig,
    DeliveryWorker,
    Destinations,
    SmsChannel,
    SmsTemplate,
    SuspectPolicy,
    WebhookChannel,
    nights,
    stays,
)
from api import AuthConfig, PasswordChecker, create_app, ensure_admin
from api.console import ConsoleConfig
from ccmon.metrics import metrics_router
from ccmon.mosquitto import AccountSync, new_device_password
from ingest import (
    BatchConfig,
    CommandChannel,
    Limits,
    Message,
    MqttConfig,
    Pipeline,
    PipelineConfig,
    message_queue,
    owntracks_http,
    run_ingest,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence

    from fastapi import APIRouter

    from alerts import Channel
    from ccmon.settings import Settings

log = logging.getLogger(__name__)


async def prepare_database(url: str) -> str | None:
    """Apply migrations and create the admin user on first start; returns its new password."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        applied = await store.migrate.migrate(conn)
        for name in applied:
            log.info("applied migration %s", name)
        async with conn.transaction():
            return await ensure_admin(conn)


@asynccontextmanager
async def connection_pool(url: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(url, min_size=2, max_size=10, open=False)
    await pool.open(wait=True)
    try:
        yield pool
    finally:
        await pool.close()


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(
        limits=Limits(
            max_future_s=settings.fix_max_future_s,
            max_age_s=settings.fix_max_age_s,
            max_accuracy_m=settings.fix_max_accuracy_m,
            max_bytes=settings.message_max_bytes,
            max_items=settings.message_max_items,
            max_depth=settings.message_max_depth,
        ),
        levels=settings.levels,
        refresh_s=settings.registry_refresh_s,
        escalate_after_s=settings.escalate_after_s,
        backlog_max_s=settings.backlog_max_s,
        suspect=SuspectPolicy(
            max_speed_mps=settings.suspect_max_speed_mps,
            confirm_s=settings.suspect_confirm_s,
            max_accuracy_m=settings.suspect_max_accuracy_m,
            clock_drift_s=settings.suspect_clock_drift_s,
            perfect_s=settings.suspect_perfect_s,
            still_s=settings.suspect_still_s,
            still_m=settings.suspect_still_m,
            apart_m=settings.suspect_apart_m,
        ),
    )


def monitoring(
    pool: AsyncConnectionPool[Any], settings: Settings
) -> tuple[uvicorn.Server, list[Coroutine[Any, Any, None]]]:
    """The API server (with HTTP ingest), and beside it the ingest loop (sharing one pipeline
    queue with HTTP ingest) and the alert delivery worker."""
    config = pipeline_config(settings)
    pipeline = Pipeline(pool, config)
    queue = message_queue(settings.batch_size)
    passwords = PasswordChecker()  # one bound on argon2 work: sign-ins and HTTP ingest
    server = api_server(
        pool,
        settings,
        routers=[
            owntracks_http(queue, pipeline, passwords),
            metrics_router(pool, pipeline, queue),
        ],
        passwords=passwords,
    )
    tasks = [
        ingest_task(pipeline, settings, queue),
        delivery_task(pool, settings),
        retention_task(pool, settings),
        stays_task(pool, settings),
        CommandChannel(pool, mqtt_config(settings), limits=config.limits).run(),
    ]
    if settings.mosquitto_auth_dir is not None:
        if settings.mqtt_username is None or settings.mqtt_password is None:
            raise SystemExit("CCMON_MOSQUITTO_AUTH_DIR needs CCMON_MQTT_USERNAME and _PASSWORD")
        sync = AccountSync(
            settings.mosquitto_auth_dir,
            ingest=(settings.mqtt_username, settings.mqtt_password),
            processes=settings.mosquitto_ingest_processes,
            pid_file=settings.mosquitto_pid_file,
        )
        tasks.append(sync.run(pool, every_s=settings.broker_sync_s))
    return server, tasks


async def retention_task(pool: AsyncConnectionPool[Any], settings: Settings) -> None:
    """Every `retention_check_s`, delete the fixes (and the alerts' coordinates) of orders
    over for `retention_days`, quarantine and protected persons' positions of that age, and
    counts of wrong passwords that hold nobody off any more."""
    age_s = settings.retention_days * 86400.0
    while True:
        try:
            async with pool.connection() as conn:
                if quarantined := await store.retention.purge_quarantine(conn, age_s=age_s):
                    log.info("retention: deleted %d quarantined messages", quarantined)
                if protected := await store.retention.purge_protected_positions(conn, age_s=age_s):
                    log.info("retention: deleted %d fixes of protected persons", protected)
                await store.sessions.forget_failures(conn, older_than_s=settings.login_lockout_s)
                while purges := await store.retention.purge_expired_fixes(conn, age_s=age_s):
                    for p in purges:
                        log.info(
                            "retention: deleted %d fixes of subject %d (order %d, over since %s)",
                            p.fixes_deleted,
                            p.subject_id,
                            p.order_id,
                            p.period_end.isoformat(),
                        )
        except psycopg.Error:
            log.exception("retention: the store failed; trying again later")
        store.cancellation.honour_cancellation()
        await asyncio.sleep(settings.retention_check_s)


def stay_policy(settings: Settings) -> stays.StayPolicy:
    return stays.StayPolicy(
        radius_m=settings.stay_radius_m,
        min_s=settings.stay_min_s,
        away_fixes=settings.stay_away_fixes,
        max_gap_s=settings.stay_max_gap_s,
    )


async def stays_task(pool: AsyncConnectionPool[Any], settings: Settings) -> None:
    """Every `stays_check_s`, find the stays of the subjects with new fixes, then judge the
    night for the subjects with a residence (`night_away`)."""
    policy = stay_policy(settings)
    tz = ZoneInfo(settings.report_timezone)
    while True:
        try:
            async with pool.connection() as conn:
                while await stays.refresh(conn, policy=policy, limit=100):
                    pass
                async with conn.transaction():
                    await nights.check(
                        conn,
                        levels=settings.levels,
                        tz=tz,
                        max_gap_s=settings.stay_max_gap_s,
                        now=time.time(),
                    )
        except psycopg.Error:
            log.exception("stays and nights: the store failed; trying again later")
        await asyncio.sleep(settings.stays_check_s)


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        concurrency=settings.delivery_concurrency,
        per_subscription=settings.delivery_per_subscription,
        lease_s=max(60.0, 4 * settings.webhook_timeout_s),
        retry_base_s=settings.delivery_retry_base_s,
        retry_max_s=settings.delivery_retry_max_s,
        max_age_s=settings.delivery_max_age_s,
        sms_per_phone=settings.sms_per_phone,
        sms_window_s=settings.sms_window_s,
    )


async def delivery_task(pool: AsyncConnectionPool[Any], settings: Settings) -> None:
    """Send what the outbox holds until cancelled: webhooks always, texts when an SMS
    gateway is configured."""
    async with (
        httpx.AsyncClient() as client,
        WebhookChannel(
            timeout_s=settings.webhook_timeout_s,
            connections=settings.delivery_per_subscription,
            destinations=Destinations(settings.webhook_allowed_networks),
        ) as webhooks,
    ):
        channels: dict[str, Channel] = {"webhook": webhooks}
        if settings.sms_gateway_url:
            template = SmsTemplate(
                url=settings.sms_gateway_url,
                method=settings.sms_gateway_method,
                headers=settings.sms_gateway_headers,
                body=settings.sms_gateway_body,
            )
            channels["sms"] = SmsChannel(
                client,
                template,
                language=settings.sms_language,
                timeout_s=settings.webhook_timeout_s,
            )
        await DeliveryWorker(pool, channels, delivery_config(settings)).run()


def mqtt_config(settings: Settings) -> MqttConfig:
    return MqttConfig(
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        client_id=settings.mqtt_client_id,
        username=settings.mqtt_username,
        password=settings.mqtt_password,
        share_group=settings.mqtt_share_group,
        tls=settings.mqtt_tls or settings.mqtt_tls_ca is not None,
        tls_ca=None if settings.mqtt_tls_ca is None else str(settings.mqtt_tls_ca),
    )


def ingest_task(
    pipeline: Pipeline,
    settings: Settings,
    queue: asyncio.Queue[Message],
    *,
    connected: asyncio.Event | None = None,
) -> Coroutine[Any, Any, None]:
    return run_ingest(
        pipeline,
        mqtt_config(settings),
        BatchConfig(
            size=settings.batch_size,
            wait_s=settings.batch_wait_ms / 1000,
            idle_s=settings.batch_idle_ms / 1000,
            most=queue.maxsize,  # a backlog: what the queue holds, at once
        ),
        queue=queue,
        connected=connected,
        tick_s=settings.rules_tick_s,
    )


class _ApiServer(uvicorn.Server):
    """Leaves SIGINT/SIGTERM to the command line, which cancels the whole run so every
    service stops in order."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_server(
    pool: AsyncConnectionPool[Any],
    settings: Settings,
    *,
    routers: Sequence[APIRouter],
    passwords: PasswordChecker | None = None,
) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(
            pool,
            routers=routers,
            auth_config=AuthConfig(
                access_ttl_s=settings.access_token_ttl_s,
                refresh_ttl_s=settings.refresh_token_ttl_s,
                session_max_s=settings.session_max_age_s,
                key_rotate_s=settings.signing_key_rotate_days * 86400.0,
                max_failures=settings.login_max_failures,
                lockout_s=settings.login_lockout_s,
            ),
            levels=settings.levels,
            report_timezone=settings.report_timezone,
            max_body_bytes=settings.api_max_body_bytes,
            webhook_networks=settings.webhook_allowed_networks,
            passwords=passwords,
            device_passwords=new_device_password,
            console_config=ConsoleConfig(
                tiles_url=settings.console_tiles_url,
                tiles_attribution=settings.console_tiles_attribution,
                tiles_crs=settings.console_tiles_crs,
                stale_after_s=settings.console_stale_after_s,
            ),
        ),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    return _ApiServer(config)


async def run_until_stopped(
    server: uvicorn.Server,
    *background: Coroutine[Any, Any, object],
    ready: Callable[[], None] = lambda: None,
) -> None:
    """Serve the API; once it listens, call `ready` and start `background` beside it; run
    until cancelled (Ctrl-C, SIGTERM). A background task that fails stops everything with
    its error."""
    serving = asyncio.create_task(server.serve())
    tasks: list[asyncio.Task[Any]] = []
    try:
        # uvicorn exposes readiness only as a flag.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if serving.done():
            serving.result()
            return
        ready()
        tasks = [asyncio.create_task(c) for c in background]
        pending: set[asyncio.Task[Any]] = {serving, *tasks}
        while serving in pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done - {serving}:
                t.result()
    finally:
        server.should_exit = True
        await cancel_all(tasks)
        await asyncio.gather(serving, return_exceptions=True)


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel until done: on Python 3.11, asyncio.wait_for inside a library (aiomqtt's
    publish) can swallow a cancellation that races with its result."""
    pending = {t for t in tasks if not t.done()}
    while pending:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
    await asyncio.gather(*tasks, return_exceptions=True)
