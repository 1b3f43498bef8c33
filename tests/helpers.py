"""Small shared pieces for tests: seeding a subject, waiting for the pipeline, geometry."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import store
from api import hash_password
from domain import DeviceKind, SupervisionLevel, ZoneRole

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx
    from psycopg_pool import AsyncConnectionPool

M_PER_DEG = 111_195.0
CENTRE = (104.0, 30.6)


def offset(
    east_m: float, north_m: float, centre: tuple[float, float] = CENTRE
) -> tuple[float, float]:
    lon, lat = centre
    return (
        lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))),
        lat + north_m / M_PER_DEG,
    )


def square(half_m: float, centre: tuple[float, float] = CENTRE) -> dict[str, Any]:
    corners = [
        offset(-half_m, -half_m, centre),
        offset(half_m, -half_m, centre),
        offset(half_m, half_m, centre),
        offset(-half_m, half_m, centre),
    ]
    ring = [list(c) for c in [*corners, corners[0]]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True)
class Seeded:
    subject_id: int
    assignment_id: int
    device_code: str
    order_id: int | None


async def seed_subject(
    pool: AsyncConnectionPool[Any], *, code: str, half_m: float = 1000.0, order: bool = True
) -> Seeded:
    """One office, one square inclusion zone of side 2*half_m around CENTRE, one subject with
    a phone called `code`, under a monitoring order from yesterday for two months (unless
    `order` is False)."""
    async with pool.connection() as conn:
        office = await store.offices.create_office(conn, name=f"office for {code}")
        zone = await store.zones.create_zone(conn, name=f"zone for {code}", geometry=square(half_m))
        subject = await store.subjects.create_subject(
            conn, office_id=office, name=f"subject {code}", level=SupervisionLevel.NORMAL
        )
        await store.devices.create_device(
            conn, actor="test", code=code, kind=DeviceKind.PHONE, subject_id=subject
        )
        assignment = await store.assignments.assign_zone(
            conn, subject_id=subject, zone_id=zone, role=ZoneRole.INCLUSION
        )
        order_id = None
        if order:
            yesterday = datetime.now(UTC) - timedelta(days=1)
            order_id = await store.orders.create_order(
                conn,
                subject_id=subject,
                approved_by="bureau head",
                reason="test",
                starts_at=yesterday,
                ends_at=yesterday + timedelta(days=60),
                actor="test",
            )
    return Seeded(subject, assignment, code, order_id)


OWNTRACKS_KEY = "s3cret"


async def seed_owntracks_phone(pool: AsyncConnectionPool[Any], name: str) -> Seeded:
    """`seed_subject` with a native phone `{name}-native`, and beside it an OwnTracks phone
    `name` publishing as `{name}/phone`, encrypting with OWNTRACKS_KEY."""
    seeded = await seed_subject(pool, code=f"{name}-native")
    async with pool.connection() as conn:
        await store.devices.create_device(
            conn,
            actor="test",
            code=name,
            kind=DeviceKind.PHONE,
            subject_id=seeded.subject_id,
            owntracks_topic=f"{name}/phone",
            owntracks_key=OWNTRACKS_KEY,
        )
    return seeded


async def officer_of(
    pool: AsyncConnectionPool[Any],
    seeded: Seeded,
    *,
    prefix: str,
    password: str,
    role: str = "officer",
) -> str:
    """A new officer (or user of another `role`) of the seeded subject's office, signing in
    with `password`: the name."""
    name = f"{prefix}-{secrets.token_hex(3)}"
    async with pool.connection() as conn:
        office = await store.subjects.subject_office(conn, subject_id=seeded.subject_id)
        await store.users.create_user(
            conn,
            username=name,
            password_hash=hash_password(password),
            role=role,
            office_id=office,
        )
    return name


def now_minus(seconds: float) -> datetime:
    return datetime.fromtimestamp(time.time() - seconds, UTC)


async def until(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 15.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def bearer(token: str) -> dict[str, str]:
    """The header that carries an access (or API) token."""
    return {"Authorization": f"Bearer {token}"}


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, *, base: str = ""
) -> str:
    """Sign in over the API; returns the access token."""
    response = await client.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
