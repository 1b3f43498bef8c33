"""Signing in against the real PostgreSQL: tokens, their expiry, refresh (and a refresh
token used twice), logout, throttling of wrong passwords, API tokens."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest

import store
from api import AuthConfig, create_app, hash_password
from tests.helpers import bearer, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

QUICK = AuthConfig(access_ttl_s=60.0, refresh_ttl_s=60.0, max_failures=3, lockout_s=2.0)


@asynccontextmanager
async def serving(
    pool: AsyncConnectionPool[Any], config: AuthConfig
) -> AsyncIterator[httpx.AsyncClient]:
    async with pool.connection() as conn:
        for name, role in (("night", "officer"), ("boss", "admin"), ("locky", "officer")):
            await store.users.create_user(
                conn, username=name, password_hash=hash_password(f"{name}-pw"), role=role
            )
    app = create_app(pool, auth_config=config)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ccmon"
    ) as c:
        yield c


@pytest.fixture
async def client(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(pool, QUICK) as c:
        yield c


@pytest.fixture
async def short_lived(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Access tokens good for two seconds."""
    async with serving(pool, replace(QUICK, access_ttl_s=2.0)) as c:
        yield c


async def test_a_token_is_good_until_it_expires_and_a_refresh_renews_it(
    short_lived: httpx.AsyncClient,
) -> None:
    client = short_lived
    tokens = (
        await client.post("/api/v1/auth/token", json={"username": "night", "password": "night-pw"})
    ).json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 2
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.json() == {
        "id": me.json()["id"],
        "username": "night",
        "role": "officer",
        "office_id": None,
    }
    await asyncio.sleep(3.1)
    expired = await client.get("/api/v1/alerts", headers=bearer(tokens["access_token"]))
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    renewed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert (
        await client.get("/api/v1/alerts", headers=bearer(fresh["access_token"]))
    ).status_code == 200
    # A refresh token works once; shown again, someone else holds it (stolen): the session
    # ends, the tokens the first refresh gave stop too.
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401
    assert (
        await client.get("/api/v1/alerts", headers=bearer(fresh["access_token"]))
    ).status_code == 401
    stolen_after = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
    )
    assert stolen_after.status_code == 401


async def test_logout_ends_the_session_and_every_token_of_it(client: httpx.AsyncClient) -> None:
    tokens = (
        await client.post("/api/v1/auth/token", json={"username": "night", "password": "night-pw"})
    ).json()
    other = await sign_in(client, "night", "night-pw")  # another session of the same user
    out = await client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204
    gone = await client.get("/api/v1/alerts", headers=bearer(tokens["access_token"]))
    assert gone.status_code == 401
    assert gone.json() == {"detail": "the session has ended: sign in again"}
    refused = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refused.status_code == 401
    assert (await client.get("/api/v1/alerts", headers=bearer(other))).status_code == 200


async def test_wrong_passwords_slow_the_guesser_not_the_user(
    pool: AsyncConnectionPool[Any], client: httpx.AsyncClient
) -> None:
    """Three wrong passwords for a name from one address hold that name off from there (1 s,
    then 2, 4, ...), an unknown name exactly like a known one; the user signs in from
    another address meanwhile. Thirty from one address, whatever the names, hold it off."""
    app = create_app(pool, auth_config=QUICK)
    elsewhere = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("10.9.8.7", 5000)), base_url="http://ccmon"
    )

    def attempt(name: str, password: str, via: httpx.AsyncClient = client) -> Any:
        return via.post("/api/v1/auth/token", json={"username": name, "password": password})

    unknown = await attempt("ghost", "x")
    wrong = await attempt("locky", "guess")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "wrong username or password"}
    for name in ("ghost", "locky"):
        while (await attempt(name, "guess")).status_code == 401:
            pass  # the third in a row holds the name off from here
    held = [await attempt(name, f"{name}-pw") for name in ("ghost", "locky")]
    assert [h.status_code for h in held] == [429, 429]
    assert held[0].json()["detail"].split(":")[0] == held[1].json()["detail"].split(":")[0]
    assert all(int(h.headers["Retry-After"]) >= 1 for h in held)
    async with elsewhere:
        assert (await attempt("locky", "locky-pw", elsewhere)).status_code == 200
        await asyncio.sleep(1.1)
        assert (await attempt("locky", "locky-pw")).status_code == 200
        # A success starts the count again: two more wrong ones hold nothing.
        await attempt("locky", "guess")
        await attempt("locky", "guess")
        assert (await attempt("locky", "locky-pw")).status_code == 200
        # Many names from one address: the address is held off, the users are not.
        for i in range(30):
            await attempt(f"spray-{i}", "guess", elsewhere)
        assert (await attempt("night", "night-pw", elsewhere)).status_code == 429
        assert (await attempt("night", "night-pw")).status_code == 200


async def test_api_tokens_act_as_their_user_until_revoked(client: httpx.AsyncClient) -> None:
    admin = bearer(await sign_in(client, "boss", "boss-pw"))
    officer = bearer(await sign_in(client, "night", "night-pw"))
    body = {"name": "county case system", "username": "night"}
    assert (await client.post("/api/v1/api-tokens", json=body, headers=officer)).status_code == 403
    created = await client.post("/api/v1/api-tokens", json=body, headers=admin)
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("ccm_")
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert (me["username"], me["role"]) == ("night", "officer")
    listed = (await client.get("/api/v1/api-tokens", headers=admin)).json()
    assert [(t["name"], t["username"]) for t in listed] == [("county case system", "night")]
    assert listed[0]["last_used_at"] is not None
    assert token not in str(listed)
    nobody = {"name": "x", "username": "ghost"}
    assert (await client.post("/api/v1/api-tokens", json=nobody, headers=admin)).status_code == 422
    token_id = created.json()["id"]
    assert (await client.delete(f"/api/v1/api-tokens/{token_id}", headers=admin)).status_code == 204
    revoked = await client.get("/api/v1/alerts", headers=bearer(token))
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "unknown or revoked API token"}
    assert (await client.delete(f"/api/v1/api-tokens/{token_id}", headers=admin)).status_code == 404


async def test_a_request_body_is_read_no_further_than_the_limit(client: httpx.AsyncClient) -> None:
    big = b"{" + b" " * (4 * 1024 * 1024) + b"}"

    async def streamed() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    for content in (big, streamed()):
        answer = await client.post(
            "/api/v1/auth/token", content=content, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json() == {"detail": "request body over 4,194,304 bytes"}


async def test_a_session_ends_at_its_maximum_age_however_refreshed(
    pool: AsyncConnectionPool[Any],
) -> None:
    async with serving(pool, replace(QUICK, session_max_s=2.0)) as client:
        tokens = (
            await client.post(
                "/api/v1/auth/token", json={"username": "night", "password": "night-pw"}
            )
        ).json()
        renewed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert renewed.status_code == 200
        await asyncio.sleep(2.1)
        again = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": renewed.json()["refresh_token"]}
        )
        assert again.status_code == 401


async def test_a_new_password_ends_the_users_api_tokens_too(client: httpx.AsyncClient) -> None:
    admin = bearer(await sign_in(client, "boss", "boss-pw"))
    body = {"name": "case system", "username": "locky"}
    token = (await client.post("/api/v1/api-tokens", json=body, headers=admin)).json()["token"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    own = bearer(await sign_in(client, "locky", "locky-pw"))
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "locky-pw", "new_password": "a much longer password"},
        headers=own,
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401


async def test_the_signing_key_is_rotated_and_a_token_of_the_last_one_still_works(
    pool: AsyncConnectionPool[Any],
) -> None:
    async with serving(pool, replace(QUICK, key_rotate_s=1.0)) as client:
        first = await sign_in(client, "night", "night-pw")
        await asyncio.sleep(1.2)
        second = await sign_in(client, "night", "night-pw")
        kids = {jwt.get_unverified_header(t)["kid"] for t in (first, second)}
        assert len(kids) == 2  # a new key signs the second
        for token in (first, second):
            assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
        forged = jwt.encode({"sid": "x", "exp": 2**31}, b"k" * 32, headers={"kid": "999999"})
        refused = await client.get("/api/v1/auth/me", headers=bearer(forged))
        assert refused.status_code == 401
