"""The simulated devices through a real Mosquitto: each its own client, its level's rate, and
a wristband that rides out an outage by uploading a batch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import aiomqtt
import pytest

from ccmon.bench.common import free_port
from ccmon.mosquitto import mosquitto_config
from simulators import Kind, Outage, Scenario, generate_city, simulate_city
from tests.conftest import Broker, shared_folder, started_mosquitto

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


@contextlib.asynccontextmanager
async def listening(broker: Broker, topic: str) -> AsyncIterator[list[tuple[float, str, Any]]]:
    """What arrives on `topic` (loop time, topic, JSON body) while the block runs, and for
    half a second after (the last messages through)."""
    heard: list[tuple[float, str, Any]] = []
    loop = asyncio.get_running_loop()
    async with aiomqtt.Client(broker.host, broker.port, identifier="sim-listener") as c:
        await c.subscribe(topic, qos=1)

        async def listen() -> None:
            async for m in c.messages:
                assert isinstance(m.payload, bytes)
                heard.append((loop.time(), m.topic.value, json.loads(m.payload)))

        listener = asyncio.create_task(listen())
        try:
            yield heard
            await asyncio.sleep(0.5)
        finally:
            listener.cancel()


async def test_devices_report_at_their_rate_and_buffer_through_an_outage(
    mosquitto: Broker,
) -> None:
    # Subject 1 (strict) walks off from the start: its wristband is outdoors, never in a gap.
    city = generate_city(
        7, subjects=3, wristbands=0, scenarios=(Scenario(Kind.PHONE_LEFT_HOME, after_s=0.0),)
    )
    received: dict[str, list[Any]] = defaultdict(list)
    async with listening(mosquitto, "cc/v1/devices/#") as heard:
        report = await simulate_city(
            city,
            host=mosquitto.host,
            port=mosquitto.port,
            interval_s=0.25,
            duration_s=2.6,
            outages={"wb-0001": Outage(start_s=0.6, end_s=1.6)},
        )
    for _, topic, body in heard:
        received[topic].append(body)
    band = received["cc/v1/devices/wb-0001/fix"]
    batches = [m for m in band if isinstance(m, list)]
    assert len(batches) == 1
    assert 3 <= len(batches[0]) <= 5  # about 1 s of fixes at 4 a second
    seqs = [f["seq"] for m in band for f in (m if isinstance(m, list) else [m])]
    assert seqs == list(range(len(seqs)))  # nothing lost, in order
    assert [s["event"] for s in received["cc/v1/devices/wb-0001/status"]] == ["power_on"]
    # Strict supervision reports twice as often as normal.
    strict_phone = len(received["cc/v1/devices/ph-0001/fix"])
    normal_phone = len(received["cc/v1/devices/ph-0002/fix"])
    assert strict_phone >= 2 * normal_phone - 1
    assert report.devices == 4
    assert report.total.batches == 1
    assert report.of("phone_left_home").batches == 1
    assert report.total.fixes == sum(
        len(m) if isinstance(m, list) else 1
        for k, v in received.items()
        if k.endswith("/fix")
        for m in v
    )


async def test_a_band_indoors_says_it_has_no_fix_unless_its_network_is_down(
    mosquitto: Broker,
) -> None:
    # One strict subject at home all along: the wristband (GNSS only) mostly has no fix.
    city = generate_city(11, subjects=1, wristbands=1)
    async with listening(mosquitto, "cc/v1/devices/wb-0001/status") as statuses:
        began = asyncio.get_running_loop().time()
        report = await simulate_city(
            city,
            host=mosquitto.host,
            port=mosquitto.port,
            interval_s=0.1,
            duration_s=3.0,
            outages={"wb-0001": Outage(start_s=1.0, end_s=2.0)},
        )
    heard = [(at, body["event"]) for at, _, body in statuses]
    said = [at - began for at, event in heard if event == "no_fix"]
    assert heard[0][1] == "power_on"
    assert len(said) == len(heard) - 1  # nothing but power_on and no_fix
    assert report.total.gaps > len(said) > 5  # gaps while offline went unsaid
    assert not any(1.1 < at < 1.9 for at in said)  # none while offline (a margin for timing)
    assert any(at < 1.0 for at in said)
    assert any(at > 2.0 for at in said)


@pytest.fixture
def secured_broker() -> Iterator[Broker]:
    """A Mosquitto that admits only the users in its password file: a listener, and the
    simulated phone ph-0001. (Started as root, Mosquitto reads that file as the `mosquitto`
    user, so it lives in a folder anyone may read, not in pytest's private tmp_path.)"""
    shared = shared_folder("ccmon-mosquitto-")
    passwords = shared / "passwords"
    for i, (user, password) in enumerate([("listener", "l1st3n"), ("ph-0001", "ph-secret")]):
        create = ["-c"] if i == 0 else []
        subprocess.run(
            ["mosquitto_passwd", "-b", *create, str(passwords), user, password], check=True
        )
    passwords.chmod(0o644)
    port = free_port()
    config = mosquitto_config(port=port, persistence_dir=None)
    secured = config.replace(
        "allow_anonymous true", f"allow_anonymous false\npassword_file {passwords}"
    )
    try:
        with started_mosquitto(shared, secured, port) as broker:
            yield broker
    finally:
        shutil.rmtree(shared)


async def test_each_device_connects_with_its_own_credentials(secured_broker: Broker) -> None:
    city = generate_city(7, subjects=1, wristbands=0)
    b = secured_broker
    async with aiomqtt.Client(b.host, b.port, username="listener", password="l1st3n") as c:
        await c.subscribe("cc/v1/devices/#", qos=1)
        report = await simulate_city(
            city,
            host=b.host,
            port=b.port,
            interval_s=0.2,
            duration_s=0.5,
            credentials={"ph-0001": ("ph-0001", "ph-secret")},
        )
        first = await anext(aiter(c.messages))
    assert first.topic.value == "cc/v1/devices/ph-0001/fix"
    assert report.total.fixes >= 2
    with pytest.raises(ExceptionGroup) as refused:
        await simulate_city(
            city,
            host=b.host,
            port=b.port,
            interval_s=0.2,
            duration_s=0.5,
            credentials={"ph-0001": ("ph-0001", "guess")},
        )
    assert refused.group_contains(aiomqtt.MqttError)
