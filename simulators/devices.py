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

from domain import DeviceKind
from domain.crs import Crs, gcj02_to_bd09, wgs84_to_gcj02
from simulators.movement import observed, true_position

if TYPE_CHECKING:
    from simulators.city import City


@dataclass(slots=True)
class SimulationReport:
    published: int = 0
    rounds: int = 0


def fix_payload(
    *,
    when: datetime,
    lon: float,
    lat: float,
    accuracy: float,
    battery: int,
    seq: int,
    crs: Crs = Crs.WGS84,
) -> bytes:
    """A native v1 fix, exactly as documented in the README; `lon`, `lat` are WGS-84 and are
    sent in `crs`, as a phone with a Chinese map SDK sends GCJ-02."""
    if crs is not Crs.WGS84:
        glon, glat = wgs84_to_gcj02(lon, lat)
        lon, lat = (float(glon), float(glat))
        if crs is Crs.BD09:
            blon, blat = gcj02_to_bd09(lon, lat)
            lon, lat = (float(blon), float(blat))
    body: dict[str, object] = {
        "time": when.isoformat().replace("+00:00", "Z"),
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "accuracy": round(accuracy, 1),
        "source": "gnss",
        "battery": battery,
        "seq": seq,
    }
    if crs is not Crs.WGS84:
        body["crs"] = crs.value
    return json.dumps(body).encode()


def status_payload(*, when: datetime, event: str, battery: int, seq: int) -> bytes:
    """A native v1 status event, exactly as documented in the README."""
    return json.dumps(
        {
            "time": when.isoformat().replace("+00:00", "Z"),
            "event": event,
            "battery": battery,
            "seq": seq,
        }
    ).encode()


def power_on(city: City, *, when: datetime) -> list[tuple[str, bytes]]:
    """What every wristband says when it starts: it is on, and how full its battery is."""
    return [
        (
            f"cc/v1/devices/{d.code}/status",
            status_payload(when=when, event="power_on", battery=100, seq=0),
        )
        for s in city.subjects
        for d in s.devices
        if d.kind is DeviceKind.WRISTBAND
    ]


def city_round(
    city: City, *, t: float, when: datetime, seq: int, rng: random.Random
) -> list[tuple[str, bytes]]:
    """One fix from every device of the city, `t` seconds into the simulation: phones in
    GCJ-02 (as their map SDK reports), wristbands in WGS-84."""
    messages = []
    for i, subject in enumerate(city.subjects):
        position = true_position(city, subject, i, t)
        for device in subject.devices:
            (lon, lat), accuracy = observed(rng, position)
            payload = fix_payload(
                when=when,
                lon=lon,
                lat=lat,
                accuracy=accuracy,
                battery=max(5, 100 - int(t / 60)),
                seq=seq,
                crs=Crs.GCJ02 if device.kind is DeviceKind.PHONE else Crs.WGS84,
            )
            messages.append((f"cc/v1/devices/{device.code}/fix", payload))
    return messages


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
        for topic, payload in power_on(city, when=datetime.now(UTC)):
            await client.publish(topic, payload, qos=1)
            report.published += 1
        while duration_s is None or time.monotonic() - started < duration_s:
            t = time.monotonic() - started
            messages = city_round(city, t=t, when=datetime.now(UTC), seq=report.rounds, rng=rng)
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1)
                report.published += 1
            report.rounds += 1
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started - t)))
    return report
