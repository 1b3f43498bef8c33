"""Simulated devices publishing native v1 fixes and status over MQTT, as real phones and
wristbands do: each its own client, at its level's rate, buffering through outages."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiomqtt

from domain import DeviceKind, SupervisionLevel
from domain.crs import Crs, gcj02_to_bd09, wgs84_to_gcj02
from simulators.movement import indoors, observed, true_position

if TYPE_CHECKING:
    from collections.abc import Mapping

    from simulators.city import City, SimDevice


@dataclass(slots=True)
class SimulationReport:
    """What was sent, for the summary at the end."""

    fixes: int = 0
    batches: int = 0  # array messages a device uploaded after an outage
    statuses: int = 0
    devices: int = 0


@dataclass(frozen=True, slots=True)
class Outage:
    """A device out of reach from `start_s` to `end_s` into the run: it keeps taking fixes
    and uploads them as one batch when it is back."""

    start_s: float
    end_s: float


_LEVEL_FACTOR = {SupervisionLevel.STRICT: 1.0, SupervisionLevel.NORMAL: 2.0}


def fix_payload(
    *,
    when: datetime,
    lon: float,
    lat: float,
    accuracy: float,
    battery: int,
    seq: int,
    crs: Crs = Crs.WGS84,
    source: str = "gnss",
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
        "source": source,
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


def device_fix(
    city: City,
    index: int,
    device: SimDevice,
    *,
    t: float,
    when: datetime,
    seq: int,
    rng: random.Random,
) -> bytes:
    """One fix of a device `t` seconds into the simulation: phones in GCJ-02 (as their map
    SDK reports) from GNSS, Wi-Fi or the cell; wristbands GNSS only, in WGS-84."""
    subject = city.subjects[index]
    position = true_position(city, subject, index, t)
    phone = device.kind is DeviceKind.PHONE
    r = observed(rng, position, inside_building=indoors(subject, position), gnss_only=not phone)
    return fix_payload(
        when=when,
        lon=r.lon,
        lat=r.lat,
        accuracy=r.accuracy,
        battery=max(5, 100 - int(t / 60)),
        seq=seq,
        crs=Crs.GCJ02 if phone else Crs.WGS84,
        source=r.source,
    )


async def _run_device(
    city: City,
    index: int,
    device: SimDevice,
    *,
    broker: tuple[str, int],
    interval_s: float,
    until: float,
    outage: Outage | None,
    rng: random.Random,
    report: SimulationReport,
) -> None:
    """One device: its own MQTT client, its level's rate, its own sequence numbers."""
    started = time.monotonic()
    held: list[object] = []
    seq = 0
    async with aiomqtt.Client(*broker, identifier=device.code) as client:
        if device.kind is DeviceKind.WRISTBAND:
            now = datetime.now(UTC)
            await client.publish(
                f"cc/v1/devices/{device.code}/status",
                status_payload(when=now, event="power_on", battery=100, seq=0),
                qos=1,
            )
            report.statuses += 1
        while time.monotonic() < until:
            t = time.monotonic() - started
            fix = device_fix(city, index, device, t=t, when=datetime.now(UTC), seq=seq, rng=rng)
            seq += 1
            topic = f"cc/v1/devices/{device.code}/fix"
            if outage is not None and outage.start_s <= t < outage.end_s:
                held.append(json.loads(fix))
            else:
                if held:
                    await client.publish(topic, json.dumps(held).encode(), qos=1)
                    report.fixes += len(held)
                    report.batches += 1
                    held.clear()
                await client.publish(topic, fix, qos=1)
                report.fixes += 1
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started - t)))


async def simulate_city(
    city: City,
    *,
    host: str,
    port: int,
    interval_s: float,
    duration_s: float | None = None,
    seed: int = 0,
    outages: Mapping[str, Outage] | None = None,
    report: SimulationReport | None = None,
) -> SimulationReport:
    """Every device its own MQTT client, reporting every `interval_s` (strict supervision)
    or twice that (normal), until `duration_s` has passed (or cancelled)."""
    report = report or SimulationReport()
    until = time.monotonic() + (duration_s if duration_s is not None else float("inf"))
    outages = outages or {}
    async with asyncio.TaskGroup() as tg:
        for i, subject in enumerate(city.subjects):
            for device in subject.devices:
                report.devices += 1
                tg.create_task(
                    _run_device(
                        city,
                        i,
                        device,
                        broker=(host, port),
                        interval_s=interval_s * _LEVEL_FACTOR.get(subject.level, 4.0),
                        until=until,
                        outage=outages.get(device.code),
                        rng=random.Random(f"{seed}/{device.code}"),
                        report=report,
                    )
                )
    return report
