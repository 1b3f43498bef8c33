"""Simulated devices publishing native v1 fixes over MQTT, as real phones and wristbands do."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiomqtt

from simulators.movement import observed, true_position

if TYPE_CHECKING:
    from simulators.city import City


@dataclass(slots=True)
class SimulationReport:
    published: int = 0
    rounds: int = 0


def fix_payload(
    *, when: datetime, lon: float, lat: float, accuracy: float, battery: int, seq: int
) -> bytes:
    """A native v1 fix, exactly as documented in the README."""
    return json.dumps(
        {
            "time": when.isoformat().replace("+00:00", "Z"),
            "lat": round(lat, 7),
            "lon": round(lon, 7),
            "accuracy": round(accuracy, 1),
            "source": "gnss",
            "battery": battery,
            "seq": seq,
        }
    ).encode()


async def simulate_city(
    city: City,
    *,
    host: str,
    port: int,
    interval_s: float,
    duration_s: float | None = None,
    seed: int = 0,
    report: SimulationReport | None = None,
) -> SimulationReport:
    """Publish one fix per device every `interval_s` until `duration_s` (or cancelled)."""
    rng = random.Random(seed)
    report = report or SimulationReport()
    started = time.monotonic()
    async with aiomqtt.Client(host, port, identifier=f"ccmon-sim-{seed}") as client:
        while duration_s is None or time.monotonic() - started < duration_s:
            t = time.monotonic() - started
            now = datetime.now(UTC)
            for i, subject in enumerate(city.subjects):
                position = true_position(city, subject, i, t)
                for device in subject.devices:
                    (lon, lat), accuracy = observed(rng, position)
                    payload = fix_payload(
                        when=now,
                        lon=lon,
                        lat=lat,
                        accuracy=accuracy,
                        battery=max(5, 100 - int(t / 60)),
                        seq=report.rounds,
                    )
                    await client.publish(f"cc/v1/devices/{device.code}/fix", payload, qos=1)
                    report.published += 1
            report.rounds += 1
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started - t)))
    return report
