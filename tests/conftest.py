"""Session fixtures: a real Mosquitto and a real PostgreSQL, each on its own free port/socket.

CCMON_TEST_DATABASE_URL points the suite at an existing PostgreSQL >= 15 server instead of
the embedded one; each test module gets a database of its own there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiomqtt
import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

import store
from api import create_app, hash_password
from ccmon.bench.common import free_port
from ccmon.embedded import start_postgres, stop_postgres
from ccmon.mosquitto import (
    ACL_FILE,
    PASSWORD_FILE,
    AccountSync,
    MosquittoError,
    mosquitto_config,
    running_mosquitto,
    write_auth_files,
)
from tests.helpers import bearer, sign_in
from tests.running import running_pipeline

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from ingest import Pipeline

OFFICER_PASSWORD = "officer-password"
# ingest's own account on a broker that admits only known users
INGEST = ("ccmon-ingest", "ingest-password-for-the-test")


@dataclass(frozen=True)
class Broker:
    host: str
    port: int


def shared_folder(prefix: str, mode: int = 0o755) -> Path:
    """A temporary folder Mosquitto's own user can use: started as root, Mosquitto reads its
    files (and writes its persistence) as the `mosquitto` user, which pytest's private
    tmp_path does not let in. The caller removes it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(mode)
    return folder


def auth_folder(accounts: list[store.devices.BrokerAccount]) -> Path:
    """The broker's password file and ACL for `accounts` and ingest, in a folder Mosquitto
    can read: started as root, it reads them as the `mosquitto` user."""
    folder = shared_folder("ccmon-auth-")
    write_auth_files(folder, accounts, ingest=INGEST)
    for name in (PASSWORD_FILE, ACL_FILE):
        (folder / name).chmod(0o644)
    return folder


@contextlib.contextmanager
def syncable_mosquitto(
    accounts: list[store.devices.BrokerAccount],
) -> Iterator[tuple[Broker, AccountSync]]:
    """A Mosquitto that admits only `accounts` and ingest, and the AccountSync that keeps its
    files in step with the registry as `ccmon serve` does (telling it through its pid)."""
    folder = auth_folder(accounts)
    port = free_port()
    config = mosquitto_config(port=port, persistence_dir=None, auth_dir=folder)
    try:
        with running_mosquitto(folder, config, port) as proc:
            pid_file = folder / "mosquitto.pid"
            pid_file.write_text(str(proc.pid))
            sync = AccountSync(folder, ingest=INGEST, processes=1, pid_file=pid_file)
            yield Broker("127.0.0.1", port), sync
    finally:
        shutil.rmtree(folder)


async def connects(broker: Broker, username: str, password: str) -> bool:
    """Whether the broker lets this account in."""
    try:
        async with aiomqtt.Client(broker.host, broker.port, username=username, password=password):
            return True
    except aiomqtt.MqttError:
        return False


@contextlib.contextmanager
def started_mosquitto(folder: Path, config: str, port: int) -> Iterator[Broker]:
    """A Mosquitto with `config` (listening on `port`), logging into `folder`."""
    try:
        with running_mosquitto(folder, config, port):
            yield Broker("127.0.0.1", port)
    except MosquittoError as exc:
        pytest.fail(f"{exc} (the README's test command installs it when run as root)")


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    port = free_port()
    config = mosquitto_config(port=port, persistence_dir=None)
    with started_mosquitto(tmp_path_factory.mktemp("mosquitto"), config, port) as broker:
        yield broker


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN of the server's maintenance database."""
    external = os.environ.get("CCMON_TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = start_postgres(tmp_path_factory.mktemp("pg") / "data")
    try:
        yield str(server.get_uri())
    finally:
        stop_postgres(server, mode="immediate")


@pytest.fixture(scope="module")
def database_url(postgres_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for the test module, dropped afterwards."""
    name = "t_" + re.sub(r"\W", "_", request.module.__name__)[-50:]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(postgres_server, dbname=name)

    async def _migrate() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await store.migrate.migrate(conn)

    asyncio.run(_migrate())
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    p: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url, min_size=1, max_size=5, open=False
    )
    await p.open(wait=True)
    yield p
    await p.close()


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The shared real-data folder beside the project; tests using it skip when it is absent."""
    folder = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
    if not folder.is_dir():
        pytest.skip(f"real data not present at {folder} (only in the development workspace)")
    return folder


@pytest.fixture
async def pipeline(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, request: pytest.FixtureRequest
) -> AsyncIterator[Pipeline]:
    """The real pipeline on the test broker and the module's database, connected."""
    async with running_pipeline(pool, mosquitto, client_id=f"ingest-{request.node.name}") as p:
        yield p


@contextlib.asynccontextmanager
async def signed_in_client(
    pool: AsyncConnectionPool[Any], username: str, role: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, signed in as a county-wide user of this role (created if new)."""
    async with pool.connection() as conn:
        await store.users.create_user(
            conn, username=username, password_hash=hash_password(OFFICER_PASSWORD), role=role
        )
    transport = httpx.ASGITransport(app=create_app(pool))
    async with httpx.AsyncClient(transport=transport, base_url="http://ccmon") as client:
        token = await sign_in(client, username, OFFICER_PASSWORD)
        client.headers.update(bearer(token))
        yield client


@pytest.fixture
async def api(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, signed in as an officer."""
    async with signed_in_client(pool, "officer", "officer") as client:
        yield client


@pytest.fixture
async def admin_api(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, signed in as an admin (webhooks, deliveries, quarantine)."""
    async with signed_in_client(pool, "test-admin", "admin") as client:
        yield client
