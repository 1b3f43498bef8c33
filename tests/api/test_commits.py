"""A request's transaction is committed before its answer starts: a client told "created"
finds the thing on its next request, and a read's audit row is on the record before the
positions leave. Checked at the moment the answer's first message goes out, from another
connection (deterministic: the default scope of FastAPI's dependencies would still hold the
transaction open then)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import httpx

import store
from api import create_app, hash_password
from tests.conftest import OFFICER_PASSWORD
from tests.helpers import bearer, seed_subject, sign_in, square

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping

    from psycopg_pool import AsyncConnectionPool

    Message = MutableMapping[str, Any]
    Send = Callable[[Message], Awaitable[None]]


def _watched(app: Any, at_start: Callable[[], Awaitable[None]]) -> Any:
    """The app, calling `at_start` as each answer starts (before it is passed on)."""

    async def watched(scope: Any, receive: Any, send: Send) -> None:
        async def passing(message: Message) -> None:
            if message["type"] == "http.response.start":
                await at_start()
            await send(message)

        await app(scope, receive, passing)

    return watched


@contextlib.asynccontextmanager
async def _client(
    pool: AsyncConnectionPool[Any], at_start: Callable[[], Awaitable[None]]
) -> AsyncIterator[httpx.AsyncClient]:
    async with pool.connection() as conn:
        await store.users.create_user(
            conn,
            username="committer",
            password_hash=hash_password(OFFICER_PASSWORD),
            role="admin",
        )
    transport = httpx.ASGITransport(app=_watched(create_app(pool), at_start))
    async with httpx.AsyncClient(transport=transport, base_url="http://ccmon") as client:
        client.headers.update(bearer(await sign_in(client, "committer", OFFICER_PASSWORD)))
        yield client


async def _count(pool: AsyncConnectionPool[Any], query: str) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(query)
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_writes_and_read_audits_are_committed_before_the_answer_starts(
    pool: AsyncConnectionPool[Any],
) -> None:
    seen: list[tuple[int, int]] = []

    async def at_start() -> None:
        zones = "SELECT count(*) FROM zones WHERE name = 'committed first'"
        reads = "SELECT count(*) FROM location_reads WHERE purpose = 'checking the commit'"
        seen.append((await _count(pool, zones), await _count(pool, reads)))

    seeded = await seed_subject(pool, code="commits")
    async with _client(pool, at_start) as client:
        seen.clear()  # the sign-in's own answers
        feature = {"geometry": square(300.0), "properties": {"name": "committed first"}}
        created = await client.post("/api/v1/zones", json=feature)
        assert created.status_code == 201, created.text
        fixes = await client.get(
            f"/api/v1/subjects/{seeded.subject_id}/fixes",
            params={"purpose": "checking the commit"},
        )
        assert fixes.status_code == 200, fixes.text
    assert seen == [(1, 0), (1, 1)]
