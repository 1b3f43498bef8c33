"""The simulated devices through a real Mosquitto: each its own client, its level's rate, and
a wristband that rides out an outage by uploading a batch."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import aiomqtt

from simulators import Kind, Outage, Scenario, generate_city, simulate_city

if TYPE_CHECKING:
    from tests.conftest import Broker


async def test_devices_report_at_their_rate_and_buffer_through_an_outage(
    mosquitto: Broker,
) -> None:
    # Subject 1 (strict) walks off from the start: its wristband is outdoors, never in a gap.
    city = generate_city(
        7, subjects=3, wristbands=0, scenarios=(Scenario(Kind.PHONE_LEFT_HOME, after_s=0.0),)
    )
    received: dict[str, list[Any]] = defaultdict(list)
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="sim-listener") as c:
        await c.subscribe("cc/v1/devices/#", qos=1)

        async def listen() -> None:
            async for m in c.messages:
                assert isinstance(m.payload, bytes)
                received[m.topic.value].append(json.loads(m.payload))

        listener = asyncio.create_task(listen())
        report = await simulate_city(
            city,
            host=mosquitto.host,
            port=mosquitto.port,
            interval_s=0.25,
            duration_s=2.6,
            outages={"wb-0001": Outage(start_s=0.6, end_s=1.6)},
        )
        await asyncio.sleep(0.5)
        listener.cancel()

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
