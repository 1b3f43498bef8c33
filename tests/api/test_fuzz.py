"""Schemathesis against the served OpenAPI: every operation, with requests generated from its
schema (valid and not), answers without a server error, and with what its schema says it
answers (the response schemas, the one error shape). The API runs in uvicorn on loopback
with its own event loop and the module's real PostgreSQL, called as an admin (an API token,
so no generated request can end the session it runs on)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from psycopg_pool import AsyncConnectionPool
from schemathesis.checks import response_schema_conformance
from schemathesis.core.result import Ok

from api import create_app, hash_password
from ccmon.bench.common import free_port
from ccmon.mosquitto import new_device_password

if TYPE_CHECKING:
    from collections.abc import Iterator

ADMIN_PW = "fuzzing-admin-password"

# The schema as served, read from an app that never opens its (unused) pool.
schema = schemathesis.openapi.from_dict(
    create_app(AsyncConnectionPool("", open=False)).openapi()
).exclude(
    # These would revoke the token the fuzzing runs on; their refusals are tested elsewhere.
    path_regex=r"^/api/v1/api-tokens/\{token_id\}$",
    method="DELETE",
)


class _Served:
    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self._url = database_url
        self._ready = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        async with AsyncConnectionPool(self._url, min_size=1, max_size=4, open=False) as pool:
            app = create_app(pool, device_passwords=new_device_password)
            config = uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off"
            )
            self._server = uvicorn.Server(config)
            task = asyncio.create_task(self._server.serve())
            while not self._server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            self._ready.set()
            await task

    def __enter__(self) -> _Served:
        self._thread.start()
        assert self._ready.wait(30), "the API did not start"
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.should_exit = True
        self._thread.join(30)


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(base URL, headers of an admin's API token)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (username, password_hash, role) VALUES ('fuzz-admin', %s, 'admin')",
            (hash_password(ADMIN_PW),),
        )
    with _Served(database_url) as api:
        base = f"http://127.0.0.1:{api.port}"
        with httpx.Client(base_url=base) as client:
            signed = client.post(
                "/api/v1/auth/token", json={"username": "fuzz-admin", "password": ADMIN_PW}
            )
            access = signed.json()["access_token"]
            made = client.post(
                "/api/v1/api-tokens",
                json={"name": "fuzzing", "username": "fuzz-admin"},
                headers={"Authorization": f"Bearer {access}"},
            )
            token = made.json()["token"]
        yield base, {"Authorization": f"Bearer {token}"}


# The server runs in a thread beside the generation, and its libraries (the connection
# pool's jitter) draw from the global `random`: Hypothesis, seeing that state move while it
# generated a case, would call the strategy impure. It is not the strategy.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning"
)
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_makes_a_server_error_and_every_answer_is_as_documented(
    case: schemathesis.Case[Any], served: tuple[str, dict[str, str]]
) -> None:
    base, headers = served
    response = case.call(base_url=base, headers=headers, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
        f"\n  query={case.query} body={case.body!r}"[:2000]
    )
    case.validate_response(response, checks=[response_schema_conformance])


def test_the_schema_covers_the_api() -> None:
    """The fuzzing sees the management resources (a filter gone wrong would skip them)."""
    paths = {r.ok().path for r in schema.get_all_operations() if isinstance(r, Ok)}
    assert {
        "/api/v1/subjects",
        "/api/v1/zones",
        "/api/v1/devices",
        "/api/v1/leaves/{leave_id}/approve",
        "/api/v1/audit/changes",
    } <= paths
