"""The HTTP edge: authentication and clear 4xx answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

import store
from api import create_app, ensure_admin, hash_password
from tests.helpers import bearer, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool


@pytest.fixture
async def client(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with pool.connection() as conn:
        await store.users.create_user(
            conn, username="duty", password_hash=hash_password("s3cret-night"), role="officer"
        )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(pool)), base_url="http://ccmon"
    ) as c:
        yield c


async def test_reads_need_a_valid_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/alerts")).status_code == 401
    # Even whether a subject exists is only told to a signed-in user.
    assert (await client.get("/api/v1/subjects/999999/fixes")).status_code == 401
    assert (await client.get("/api/v1/subjects/999999/events")).status_code == 401
    forged = await client.get("/api/v1/alerts", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401
    assert forged.json() == {"detail": "not a valid access token"}
    basic = await client.get("/api/v1/alerts", auth=("duty", "s3cret-night"))
    assert basic.status_code == 401  # passwords go to /auth/token, not to every request
    token = await sign_in(client, "duty", "s3cret-night")
    signed = await client.get("/api/v1/alerts", headers=bearer(token))
    assert signed.status_code == 200


async def test_health_is_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.json() == {"database": True}


async def test_bad_requests_say_what_is_wrong(client: httpx.AsyncClient) -> None:
    token = await sign_in(client, "duty", "s3cret-night")
    auth = bearer(token)
    bad_state = await client.get("/api/v1/alerts", params={"state": "forgotten"}, headers=auth)
    assert bad_state.status_code == 422
    assert bad_state.json()["detail"].startswith("query.state.0: Input should be 'open'")
    too_many = await client.get("/api/v1/alerts", params={"limit": 0}, headers=auth)
    assert too_many.status_code == 422
    missing = await client.get("/api/v1/subjects/999999/fixes", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no subject 999999"}
    # a wrong method says which are right (not the console's files' GET, HEAD)
    wrong = await client.put("/api/v1/auth/token", headers=auth)
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")


async def test_the_admin_password_is_generated_once(pool: AsyncConnectionPool[Any]) -> None:
    async with pool.connection() as conn:
        first = await ensure_admin(conn)
        second = await ensure_admin(conn)
    assert first is not None
    assert len(first) >= 16
    assert second is None


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/alerts" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
