"""Simulated devices publishing native v1 fixes and device events over MQTT, as real phones and
wristbands do: each its own client (with its own credentials, if given), at its level's rate,
buffering through outages, and misbehaving as its subject's scenario says."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import aiomqtt

from domain import DeviceKind, SupervisionLevel
from domain.crs import Crs, gcj02_to_bd09, wgs84_to_gcj02
from simulators.city import City, SimDevice
from simulators.movement import (
    Reading,
    observed,
    phone_whereabouts,
    protected_whereabouts,
    whereabouts,
)
from simulators.scenarios import CLOCK_BACK_S, Kind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from simulators.city import SimSubject


@dataclass(slots=True)
class Sent:
    """What one group of devices sent."""

    fixes: int = 0
    batches: int = 0  # array messages uploaded after an outage
    events: int = 0
    duplicates: int = 0  # fixes sent a second time
    out_of_order: int = 0  # fixes sent after a newer one
    malformed: int = 0  # payloads meant to be refused
    gaps: int = 0  # moments a device got no fix (indoors, GNSS only)
    commands: int = 0  # commands received
    answers: int = 0  # commands answered


@dataclass(slots=True)
class SimulationReport:
    """What was sent, per scenario (`routine` for everyone else), for progress and summary."""

    devices: int = 0
    by_label: dict[str, Sent] = field(default_factory=dict)

    def of(self, label: str) -> Sent:
        return self.by_label.setdefault(label, Sent())

    @property
    def total(self) -> Sent:
        out = Sent()
        for sent in self.by_label.values():
            for name in Sent.__dataclass_fields__:
                setattr(out, name, getattr(out, name) + getattr(sent, name))
        return out


@dataclass(frozen=True, slots=True)
class Outage:
    """A device out of reach from `start_s` to `end_s` into the run: it keeps taking fixes
    and uploads them as one batch when it is back."""

    start_s: float
    end_s: float


_LEVEL_FACTOR = {SupervisionLevel.STRICT: 1.0, SupervisionLevel.NORMAL: 2.0}
_BATTERY_LOW = 9
_POWER_OFF_AFTER_S = 20.0  # simulation seconds from low battery to power off
# Payloads a broken app or a tampered device might send; each must be quarantined.
_MALFORMED = (
    b'{"time": "2026-11-25T08:00:00Z", "lat": ',
    b'{"lat": 30.6, "lon": 104.0, "accuracy": 10, "source": "gnss"}',
    b'{"time": "2026-11-25T08:00:00Z", "lat": 91.5, "lon": 104.0, "accuracy": 10,'
    b' "source": "gnss"}',
    b'{"time": "2026-11-25T08:00:00", "lat": 30.6, "lon": 104.0, "accuracy": 10, "source": "gnss"}',
)


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
    mock: bool = False,
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
    if mock:
        body["mock"] = True
    return json.dumps(body).encode()


def event_payload(*, when: datetime, event: str, battery: int, seq: int) -> bytes:
    """A native v1 device event, exactly as documented in the README."""
    return json.dumps(
        {
            "time": when.isoformat().replace("+00:00", "Z"),
            "event": event,
            "battery": battery,
            "seq": seq,
        }
    ).encode()


def _battery(subject: SimSubject, t: float) -> int:
    scenario = subject.scenario
    if scenario is not None and scenario.kind is Kind.BATTERY_DIES:
        share = min(1.0, t / max(scenario.after_s, 1.0))
        return max(_BATTERY_LOW, round(60 - (60 - _BATTERY_LOW) * share))
    return max(5, 100 - int(t / 60))


def device_fix(
    city: City,
    index: int,
    device: SimDevice,
    *,
    t: float,
    when: datetime,
    seq: int,
    rng: random.Random,
    time_scale: float = 1.0,
) -> bytes | None:
    """One fix of a device `t` simulation seconds into the run (None: no fix this time):
    phones in GCJ-02 (as their map SDK reports) from GNSS, Wi-Fi or the cell; wristbands
    GNSS only, in WGS-84. A phone faking its location does as its scenario says."""
    subject = city.subjects[index]
    phone = device.kind is DeviceKind.PHONE
    place = (phone_whereabouts if phone else whereabouts)(city, subject, index, t)
    r = observed(rng, place.position, inside_building=place.indoors, gnss_only=not phone)
    scenario = subject.scenario
    faking = phone and scenario is not None and t >= scenario.after_s
    kind = scenario.kind if faking and scenario is not None else None
    if kind is Kind.STILL_PHONE:  # the very same GNSS position, fix after fix
        r = Reading(*subject.home, accuracy=5.0, source="gnss")
    if r is None:
        return None
    if kind is Kind.CLOCK_BACK:
        when -= timedelta(seconds=CLOCK_BACK_S / time_scale)
    return fix_payload(
        when=when,
        lon=r.lon,
        lat=r.lat,
        accuracy=r.accuracy,
        battery=_battery(subject, t),
        seq=seq,
        crs=Crs.GCJ02 if phone else Crs.WGS84,
        source=r.source,
        mock=kind is Kind.MOCK_APP,
    )


@dataclass(slots=True)
class _Rate:
    """A phone's reporting interval, and a faster one until a time (a pursuit)."""

    interval_s: float
    fast: tuple[float, float] | None = None  # (interval_s, until monotonic)

    def now(self) -> float:
        if self.fast is not None and time.monotonic() < self.fast[1]:
            return self.fast[0]
        return self.interval_s


@dataclass(slots=True)
class _Device:
    """One device's run: its clock, its counters, what it holds back."""

    city: City
    index: int
    device: SimDevice
    client: aiomqtt.Client
    sent: Sent
    rng: random.Random
    time_scale: float
    started: float = field(default_factory=time.monotonic)
    seq: int = 0
    event_seq: int = 0
    done: set[str] = field(default_factory=set)  # the scenario's events already sent
    held: list[object] = field(default_factory=list)  # buffered through an outage
    late: bytes | None = None  # held back to be sent after the next one
    rate: _Rate = field(default_factory=lambda: _Rate(60.0))  # its level's, or a pursuit's
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # the rate changed

    @property
    def subject(self) -> SimSubject:
        return self.city.subjects[self.index]

    @property
    def topic(self) -> str:
        return f"cc/v1/devices/{self.device.code}"

    def sim_t(self) -> float:
        return (time.monotonic() - self.started) * self.time_scale

    async def report_event(self, event: str, battery: int) -> None:
        payload = event_payload(
            when=datetime.now(UTC), event=event, battery=battery, seq=self.event_seq
        )
        self.event_seq += 1
        await self.client.publish(f"{self.topic}/status", payload, qos=1)
        self.sent.events += 1

    async def publish_fix(self, fix: bytes) -> None:
        kind = self.subject.scenario.kind if self.subject.scenario else None
        if kind is Kind.DUPLICATES:
            if self.late is None and self.seq % 3 == 0:
                self.late = fix  # sent after the next one: out of order
                return
            await self._send(fix)
            await self._send(fix)  # and again, as a QoS 1 redelivery would
            self.sent.duplicates += 1
            if self.late is not None:
                await self._send(self.late)
                self.sent.out_of_order += 1
                self.late = None
            return
        await self._send(fix)
        if kind is Kind.MALFORMED and self.seq % 3 == 0:
            bad = _MALFORMED[(self.seq // 3) % len(_MALFORMED)]
            await self.client.publish(f"{self.topic}/fix", bad, qos=1)
            self.sent.malformed += 1

    async def _send(self, fix: bytes) -> None:
        await self.client.publish(f"{self.topic}/fix", fix, qos=1)
        self.sent.fixes += 1

    async def fix_now(self) -> int | None:
        """A fix taken and sent now (asked for); its sequence number, or None indoors
        without one."""
        t = self.sim_t()
        fix = device_fix(
            self.city,
            self.index,
            self.device,
            t=t,
            when=datetime.now(UTC),
            seq=self.seq,
            rng=self.rng,
            time_scale=self.time_scale,
        )
        if fix is None:
            return None
        self.seq += 1
        await self._send(fix)
        return self.seq - 1

    async def answer(self, command_id: str, status: str, **more: object) -> None:
        body = {"id": command_id, "status": status, **more}
        await self.client.publish(f"{self.topic}/cmd/result", json.dumps(body).encode(), qos=1)

    async def obey(self, deaf: bool) -> None:
        """Carry out what ccmon asks on the command topic (a `deaf` device takes the
        messages and never answers, as a phone left off or an app killed)."""
        async for message in self.client.messages:
            self.sent.commands += 1
            if deaf:
                continue
            try:
                command = json.loads(bytes(message.payload))
                command_id, kind = command["id"], command["kind"]
            except (ValueError, KeyError, TypeError):
                continue
            await self.answer(command_id, "delivered")
            if kind in ("locate", "check_in"):
                seq = await self.fix_now()
                if seq is None:
                    await self.answer(command_id, "failed", error="no fix (indoors)")
                    continue
                answer: dict[str, object] = {"seq": seq}
                if kind == "check_in":
                    answer["present"] = True
                await self.answer(command_id, "answered", answer=answer)
            elif kind == "set_interval":
                params = command.get("params", {})
                interval = params.get("interval_s")
                self.rate.fast = (
                    None
                    if interval is None
                    else (float(interval), time.monotonic() + float(params["for_s"]))
                )
                self.wake.set()
                await self.answer(command_id, "answered", answer={"interval_s": interval})
            else:
                await self.answer(command_id, "failed", error=f"unknown command {kind!r}")
                continue
            self.sent.answers += 1

    async def flush(self) -> None:
        if self.held:
            await self.client.publish(f"{self.topic}/fix", json.dumps(self.held).encode(), qos=1)
            self.sent.fixes += len(self.held)
            self.sent.batches += 1
            self.held.clear()


async def _scenario_step(d: _Device, t: float) -> bool:
    """Scenario actions due at `t`; False once the device has gone quiet for good."""
    scenario = d.subject.scenario
    if scenario is None or t < scenario.after_s:
        return True
    kind, phone = scenario.kind, d.device.kind is DeviceKind.PHONE
    if kind is Kind.GO_SILENT:
        return False
    if kind is Kind.CUT_STRAP and not phone and "strap_cut" not in d.done:
        await d.report_event("strap_cut", _battery(d.subject, t))
        d.done.add("strap_cut")
    if kind is Kind.BATTERY_DIES and phone:
        if "low_battery" not in d.done:
            await d.report_event("low_battery", _BATTERY_LOW)
            d.done.add("low_battery")
        if t >= scenario.after_s + _POWER_OFF_AFTER_S:
            await d.report_event("power_off", 2)
            return False
    return True


async def _run_device(
    city: City,
    index: int,
    device: SimDevice,
    *,
    broker: tuple[str, int],
    credentials: tuple[str, str] | None,
    interval_s: float,
    until: float,
    outage: Outage | None,
    rng: random.Random,
    sent: Sent,
    time_scale: float,
    deaf: bool,
) -> None:
    """One device: its own MQTT client, its level's rate, its own sequence numbers, and
    what it is asked on its command topic."""
    username, password = credentials or (None, None)
    async with aiomqtt.Client(
        *broker, identifier=device.code, username=username, password=password
    ) as client:
        d = _Device(city, index, device, client, sent, rng, time_scale, rate=_Rate(interval_s))
        await client.subscribe(f"{d.topic}/cmd", qos=1)
        obeying = asyncio.create_task(d.obey(deaf))
        try:
            await _report(d, until=until, outage=outage)
        finally:
            obeying.cancel()


async def _report(d: _Device, *, until: float, outage: Outage | None) -> None:
    """Fixes at the device's rate (its level's, or a pursuit's) until `until`."""
    if d.device.kind is DeviceKind.WRISTBAND:
        await d.report_event("power_on", 100)
    next_at = time.monotonic()
    while time.monotonic() < until:
        now = time.monotonic()
        if now < next_at:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(next_at - now):
                    await d.wake.wait()
            if d.wake.is_set():  # a new rate: the next fix is due sooner (or later)
                d.wake.clear()
                next_at = min(next_at, time.monotonic() + d.rate.now())
            continue
        next_at += d.rate.now()
        t = d.sim_t()
        if not await _scenario_step(d, t):
            return
        fix = device_fix(
            d.city,
            d.index,
            d.device,
            t=t,
            when=datetime.now(UTC),
            seq=d.seq,
            rng=d.rng,
            time_scale=d.time_scale,
        )
        offline = outage is not None and outage.start_s <= t / d.time_scale < outage.end_s
        if fix is None:  # a band indoors: alive, and says so while it has a network
            d.sent.gaps += 1
            if not offline:
                await d.report_event("no_fix", _battery(d.subject, t))
            continue
        d.seq += 1
        if offline:
            d.held.append(json.loads(fix))
        else:
            await d.flush()
            await d.publish_fix(fix)


async def _run_protected(
    city: City,
    index: int,
    *,
    broker: tuple[str, int],
    credentials: tuple[str, str] | None,
    interval_s: float,
    until: float,
    rng: random.Random,
    sent: Sent,
    time_scale: float,
) -> None:
    """A protected person's phone: fixes (GCJ-02, as its map SDK reports) at `interval_s`
    from wherever its holder is, faster while ccmon asks (a pursuit they consented to)."""
    person = city.protected[index]
    username, password = credentials or (None, None)
    topic = f"cc/v1/devices/{person.device.code}/fix"
    started = time.monotonic()
    async with aiomqtt.Client(
        *broker, identifier=person.device.code, username=username, password=password
    ) as client:
        await client.subscribe(f"cc/v1/devices/{person.device.code}/cmd", qos=1)
        rate = _Rate(interval_s)
        obeying = asyncio.create_task(_set_interval_only(client, person.device.code, rate, sent))
        seq = 0
        while time.monotonic() < until:
            place = protected_whereabouts(city, person, (time.monotonic() - started) * time_scale)
            r = observed(rng, place.position, inside_building=place.indoors, gnss_only=False)
            assert r is not None, "a phone always has a position"
            payload = fix_payload(
                when=datetime.now(UTC),
                lon=r.lon,
                lat=r.lat,
                accuracy=r.accuracy,
                battery=80,
                seq=seq,
                crs=Crs.GCJ02,
                source=r.source,
            )
            await client.publish(topic, payload, qos=1)
            seq += 1
            sent.fixes += 1
            await asyncio.sleep(rate.now())
        obeying.cancel()


async def _set_interval_only(client: aiomqtt.Client, code: str, rate: _Rate, sent: Sent) -> None:
    """A protected person's phone answers `set_interval` (its only command: ccmon never
    locates it nor asks it to check in)."""
    async for message in client.messages:
        sent.commands += 1
        try:
            command = json.loads(bytes(message.payload))
            command_id, kind, params = command["id"], command["kind"], command.get("params", {})
        except (ValueError, KeyError, TypeError):
            continue
        if kind == "set_interval":
            interval = params.get("interval_s")
            until = time.monotonic() + float(params.get("for_s", 0.0))
            rate.fast = None if interval is None else (float(interval), until)
            body = {"id": command_id, "status": "answered", "answer": {"interval_s": interval}}
            sent.answers += 1
        else:
            body = {"id": command_id, "status": "failed", "error": f"not for this phone: {kind}"}
        await client.publish(f"cc/v1/devices/{code}/cmd/result", json.dumps(body).encode(), qos=1)


async def simulate_city(
    city: City,
    *,
    host: str,
    port: int,
    interval_s: float,
    duration_s: float | None = None,
    seed: int = 0,
    time_scale: float = 1.0,
    outages: Mapping[str, Outage] | None = None,
    credentials: Mapping[str, tuple[str, str]] | None = None,
    report: SimulationReport | None = None,
    progress: Callable[[SimulationReport, float], None] | None = None,
    progress_every_s: float = 5.0,
    deaf: frozenset[str] = frozenset(),
) -> SimulationReport:
    """Every device its own MQTT client (with `credentials[code]` = (username, password) if
    given), reporting every `interval_s` (strict supervision) or twice that (normal), until
    `duration_s` has passed (or cancelled). Movement runs `time_scale` times real time;
    `progress(report, elapsed_s)` is called every `progress_every_s`. Devices obey commands
    (locate, set_interval, check_in), but for those in `deaf`, which never answer.
    Protected persons' phones report at the strict rate (`protected` in the report)."""
    report = report or SimulationReport()
    started = time.monotonic()
    until = started + (duration_s if duration_s is not None else float("inf"))
    outages = outages or {}
    credentials = credentials or {}
    async with asyncio.TaskGroup() as outer:
        ticker = (
            outer.create_task(_progress(report, progress, progress_every_s, started))
            if progress is not None
            else None
        )
        try:
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
                                credentials=credentials.get(device.code),
                                interval_s=interval_s * _LEVEL_FACTOR.get(subject.level, 4.0),
                                until=until,
                                outage=outages.get(device.code),
                                rng=random.Random(f"{seed}/{device.code}"),
                                sent=report.of(subject.label),
                                time_scale=time_scale,
                                deaf=device.code in deaf,
                            )
                        )
                for k, person in enumerate(city.protected):
                    report.devices += 1
                    tg.create_task(
                        _run_protected(
                            city,
                            k,
                            broker=(host, port),
                            credentials=credentials.get(person.device.code),
                            interval_s=interval_s,
                            until=until,
                            rng=random.Random(f"{seed}/{person.device.code}"),
                            sent=report.of("protected"),
                            time_scale=time_scale,
                        )
                    )
        finally:
            if ticker is not None:
                ticker.cancel()
    return report


async def _progress(
    report: SimulationReport,
    show: Callable[[SimulationReport, float], None],
    every_s: float,
    started: float,
) -> None:
    while True:
        await asyncio.sleep(every_s)
        show(report, time.monotonic() - started)
