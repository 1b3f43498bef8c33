"""The FastAPI application; the connection pool is created by the caller and handed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import errors
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from alerts import Destinations
from api import (
    alerts,
    audit,
    auth,
    commands,
    console,
    deliveries,
    devices,
    live,
    offices,
    orders,
    prohibitions,
    quarantine,
    reports,
    schemas,
    subjects,
    whereabouts,
    zones,
)
from api.auth import AuthConfig
from api.deps import Conn, Services
from api.headers import SecurityHeaders
from api.limits import BodyLimit
from api.passwords import PasswordChecker
from domain import DEFAULT_LEVELS, LevelPolicy, SupervisionLevel


class Health(BaseModel):
    database: bool


def create_app(
    pool: AsyncConnectionPool[Any],
    *,
    routers: Sequence[APIRouter] = (),
    auth_config: AuthConfig | None = None,
    levels: Mapping[SupervisionLevel, LevelPolicy] = DEFAULT_LEVELS,
    report_timezone: str = "Asia/Shanghai",
    device_passwords: Callable[[], tuple[str, str]] | None = None,
    live_interval_s: float = 0.5,
    live_heartbeat_s: float = 15.0,
    live_recheck_s: float = 2.0,
    console_config: console.ConsoleConfig | None = None,
    max_body_bytes: int = 4 * 1024 * 1024,
    webhook_networks: Sequence[str] = (),
    passwords: PasswordChecker | None = None,
) -> FastAPI:
    """`routers`: more endpoints under /api/v1 that other parts own (HTTP ingest);
    `levels`: the supervision levels' policies (the daily report's silence limits);
    `device_passwords`: makes a device's broker password and its hash, as the broker
    keeps it (None: this server issues no broker accounts); `live_interval_s`: how often
    the live feed reads the store; `live_heartbeat_s`: the most it stays silent;
    `console_config`: the console's basemap and display settings; `max_body_bytes`: the
    largest request body (413 beyond); `webhook_networks`: networks inside
    (private, loopback, ...) that webhooks may reach all the same; `passwords`: the
    server's one password checker (shared with HTTP ingest: one bound on argon2 work)."""
    app = FastAPI(
        title="ccmon",
        summary="Location monitoring for community correction",
        version="0.1.0",
        docs_url=None,  # served by the console, from assets that ship with ccmon
        redoc_url=None,
    )
    shared = app.state.services = Services(
        pool=pool,
        auth=auth_config or AuthConfig(),
        passwords=passwords or PasswordChecker(),
        destinations=Destinations(webhook_networks),
        levels=dict(levels),
        report_timezone=report_timezone,
        device_passwords=device_passwords,
        feed=live.Feed(pool, interval_s=live_interval_s),
        live_heartbeat_s=live_heartbeat_s,
        live_recheck_s=live_recheck_s,
        # the page checks a file against the limit the API itself holds to
        console=(console_config or console.ConsoleConfig()).model_copy(
            update={"max_body_bytes": max_body_bytes}
        ),
    )
    refused = {"model": schemas.Error, "description": "refused: `detail` says why"}
    v1 = APIRouter(prefix="/api/v1", responses={"4XX": refused})
    v1.include_router(auth.router)
    v1.include_router(alerts.router)
    v1.include_router(audit.router)
    v1.include_router(offices.router)
    v1.include_router(subjects.router)
    v1.include_router(zones.router)
    v1.include_router(orders.router)
    v1.include_router(prohibitions.router)
    v1.include_router(devices.router)
    v1.include_router(commands.router)
    v1.include_router(live.router)
    v1.include_router(console.router)
    v1.include_router(quarantine.router)
    v1.include_router(reports.router)
    v1.include_router(deliveries.router)
    v1.include_router(whereabouts.router)
    for router in routers:
        v1.include_router(router)

    @v1.get("/health", tags=["health"])
    async def health(conn: Conn) -> Health:
        """Unauthenticated: for load balancers and the demo's start-up check."""
        await conn.execute("SELECT 1")
        return Health(database=True)

    app.include_router(v1)
    console.mount(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(SecurityHeaders, tiles_url=shared.console.tiles_url)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(errors.IntegrityError, _refused_by_store)
    app.add_exception_handler(errors.DataError, _refused_by_store)
    return app


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """A request its schema refuses, in the one error shape: each problem as
    `where: what` (`query.purpose: Field required`)."""
    assert isinstance(exc, RequestValidationError)
    detail = "; ".join(
        f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors()
    )
    return JSONResponse(
        {"detail": detail or "invalid request"}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _refused_by_store(_request: Request, exc: Exception) -> JSONResponse:
    """What the store's constraints refused (the request's transaction rolled back): a
    duplicate is a 409, anything else the request's fault (422). The store's own detail
    (which value exists, in whichever office) is not repeated: the caller learns which rule
    was broken, not what someone else registered."""
    assert isinstance(exc, errors.Error)
    if isinstance(exc, errors.UniqueViolation):
        return JSONResponse(
            {"detail": "conflict: a value given (a code, name or topic) is already taken"},
            status_code=status.HTTP_409_CONFLICT,
        )
    detail = exc.diag.message_primary or "refused by the store"
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
