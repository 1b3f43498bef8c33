"""The broker accounts ccmon writes from its registry, in a real Mosquitto: each device
publishes only to its own topics, ingest reads them all, strangers are refused."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import shutil
import stat
from typing import TYPE_CHECKING, Any

import aiomqtt
import pytest

import store
from ccmon.bench.common import free_port
from ccmon.mosquitto import (
    ACL_FILE,
    PASSWORD_FILE,
    mosquitto_config,
    new_device_password,
    password_hash,
)
from domain import DeviceKind
from tests.conftest import (
    INGEST,
    Broker,
    auth_folder,
    connects,
    started_mosquitto,
    syncable_mosquitto,
)
from tests.helpers import seed_subject, until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool


def test_the_hash_is_mosquittos_pbkdf2_sha512_form() -> None:
    hashed = password_hash("secret", salt=b"0123456789ab")
    algorithm, iterations, salt, digest = hashed.split("$")[1:]
    assert (algorithm, base64.b64decode(salt)) == ("7", b"0123456789ab")
    expected = hashlib.pbkdf2_hmac("sha512", b"secret", b"0123456789ab", int(iterations))
    assert base64.b64decode(digest) == expected


@pytest.fixture
async def secured(
    pool: AsyncConnectionPool[Any], request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Broker, dict[str, str]]]:
    """Phones a and b with broker accounts (b also an OwnTracks phone as bob/phone); a
    Mosquitto that knows only them and ingest. Codes carry the test's name: one database
    serves the module."""
    tag = request.node.name[-12:]
    a, b = f"a-{tag}", f"b-{tag}"
    seeded = await seed_subject(pool, code=a)
    passwords = {}
    async with pool.connection() as conn:
        await store.devices.create_device(
            conn,
            code=b,
            kind=DeviceKind.PHONE,
            subject_id=seeded.subject_id,
            owntracks_topic=f"bob-{tag}/phone",
            actor="test",
        )
        for code in (a, b):
            password, hashed = new_device_password()
            assert await store.devices.set_mqtt_password(conn, code=code, password_hash=hashed)
            passwords[code] = password
        accounts = await store.devices.broker_accounts(conn)
    folder = auth_folder(accounts)
    port = free_port()
    config = mosquitto_config(port=port, persistence_dir=None, auth_dir=folder)
    try:
        with started_mosquitto(folder, config, port) as broker:
            yield broker, passwords
    finally:
        shutil.rmtree(folder)


async def publish_as(broker: Broker, username: str, password: str, topic: str) -> None:
    """One QoS 1 publish on a connection of its own; a broker that refuses it may say so
    (MQTT 5) or drop it silently (3.1.1): either way it must not reach ingest."""
    with contextlib.suppress(aiomqtt.MqttError):
        async with aiomqtt.Client(
            broker.host, broker.port, username=username, password=password
        ) as client:
            await client.publish(topic, f"{username} -> {topic}".encode(), qos=1)


async def test_devices_publish_only_to_their_own_topics(
    secured: tuple[Broker, dict[str, str]],
) -> None:
    broker, passwords = secured
    a, b = sorted(passwords)
    bob = f"owntracks/bob-{b[2:]}/phone"
    user, password = INGEST
    async with aiomqtt.Client(broker.host, broker.port, username=user, password=password) as ingest:
        for topic in ("cc/v1/devices/+/fix", "owntracks/#"):
            await ingest.subscribe(topic, qos=1)
        await publish_as(broker, a, passwords[a], f"cc/v1/devices/{b}/fix")  # not its own
        await publish_as(broker, a, passwords[a], bob)  # not its own
        await publish_as(broker, a, passwords[a], f"cc/v1/devices/{a}/fix")
        await publish_as(broker, b, passwords[b], bob)
        got = []
        async with asyncio.timeout(5):
            async for m in ingest.messages:
                assert isinstance(m.payload, bytes)
                got.append(m.payload.decode())
                if len(got) == 2:
                    break
        with pytest.raises(TimeoutError):  # and nothing else arrives
            async with asyncio.timeout(0.5):
                await anext(aiter(ingest.messages))
    assert got == [f"{a} -> cc/v1/devices/{a}/fix", f"{b} -> {bob}"]


async def test_strangers_and_wrong_passwords_are_refused(
    secured: tuple[Broker, dict[str, str]],
) -> None:
    broker, passwords = secured
    a = min(passwords)
    for username, password in ((None, None), (a, "guess"), ("somebody", "x")):
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client(
                broker.host, broker.port, username=username, password=password
            ):
                pass


async def test_a_device_cannot_take_ingests_session(
    secured: tuple[Broker, dict[str, str]],
) -> None:
    """A device account connecting with ingest's client id gets its own (its username):
    ingest stays connected, subscribed, and receives what the device sends."""
    broker, passwords = secured
    a = min(passwords)
    user, password = INGEST
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        identifier=user,
        clean_session=False,
        username=user,
        password=password,
    ) as ingest:
        await ingest.subscribe("cc/v1/devices/+/fix", qos=1)
        async with aiomqtt.Client(
            broker.host, broker.port, identifier=user, username=a, password=passwords[a]
        ) as intruder:
            await intruder.publish(f"cc/v1/devices/{a}/fix", b"still here?", qos=1)
        async with asyncio.timeout(5):
            message = await anext(aiter(ingest.messages))
        assert message.payload == b"still here?"


async def test_a_password_issued_in_the_console_lets_the_device_in_within_seconds(
    pool: AsyncConnectionPool[Any],
) -> None:
    """`ccmon serve` keeps the broker's files in step (CCMON_MOSQUITTO_AUTH_DIR): a device
    given a password after the broker started gets in once the files are written again and
    the broker told to read them, with no terminal; the files keep their mode."""
    code = "issued-later"
    await seed_subject(pool, code=code)
    async with pool.connection() as conn:
        accounts = await store.devices.broker_accounts(conn)
    with syncable_mosquitto(accounts) as (broker, sync):
        written = await sync.once(pool, None)
        assert await sync.once(pool, written) == written  # nothing changed: not written
        password, hashed = new_device_password()
        async with pool.connection() as conn:
            assert await store.devices.set_mqtt_password(conn, code=code, password_hash=hashed)
        assert not await connects(broker, code, password)
        assert await sync.once(pool, written) != written
        await until(lambda: connects(broker, code, password), what="the device let in")
        assert await connects(broker, *INGEST)  # ingest still in
        assert not await connects(broker, code, "guess")
        modes = {stat.S_IMODE((sync.folder / n).stat().st_mode) for n in (PASSWORD_FILE, ACL_FILE)}
        assert modes == {0o644}
