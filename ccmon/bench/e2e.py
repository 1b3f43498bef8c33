"""`ccmon bench e2e`: device messages through Mosquitto, ingest (decode, order check,
geofence, rules) and PostgreSQL, all on this machine; prints one table.

A city of subjects (the simulator's: four districts, phones, wristbands for the strict ones)
is registered in a fresh database; ingest runs in a process of its own with ccmon's settings
(as `ccmon serve` would), the load generator in this one, Mosquitto from its Debian package
with the configuration ccmon generates. Three phases, one after the other:
- single: one fix per message, published as fast as the broker takes them;
- batched: 50 fixes per message (a device uploading what it held), as fast as possible;
- paced: one fix per message at a steady rate while subjects walk out of their districts.
Per phase: fixes published and stored (each exactly once: counted in the store), the
sustained rate (fixes stored over the time from the first publish to the last commit), the
time from a fix's publish to the commit of its batch, and (paced) from the publish of the fix
that confirms an exit to the commit of its alert. Then peak memory of ingest and broker.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from numpy.typing import NDArray

from ccmon.bench.common import free_port, ms, print_table, scratch_database
from ccmon.city import seed_city
from ccmon.mosquitto import mosquitto_config, running_mosquitto
from ccmon.services import (
    cancel_all,
    connection_pool,
    ingest_task,
    pipeline_config,
    prepare_database,
)
from ingest import QUEUED_BATCHES, Message, Pipeline, message_queue
from simulators import City, generate_city
from simulators.city import offset
from simulators.load import Load, as_batch, fix_bodies, publish_load

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.sharedctypes import Synchronized
    from multiprocessing.synchronize import Event

    from ccmon.settings import Settings

# Walkers go this far south of their district's centre: outside every district.
_AWAY_M = 8000.0
_BATCH = 50  # fixes per message in the batched phase
_PHASE_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class _Phase:
    name: str
    load: Load
    per_message: int  # fixes
    rate: float | None  # messages/s; None: as fast as the broker takes them
    first_seq: int

    @property
    def fixes(self) -> int:
        return len(self.load) * self.per_message


@dataclass(frozen=True, slots=True)
class _Devices:
    """Every device of the city, as parallel arrays."""

    code: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    away_lon: NDArray[np.float64]
    away_lat: NDArray[np.float64]
    subject: NDArray[np.int64]  # index in the city

    @classmethod
    def of(cls, city: City) -> _Devices:
        rows = [
            (d.code, *s.home, *offset(city.districts[s.district].centre, 0.0, -_AWAY_M), i)
            for i, s in enumerate(city.subjects)
            for d in s.devices
        ]
        codes, lon, lat, away_lon, away_lat, subject = zip(*rows, strict=True)
        return cls(
            list(codes),
            np.array(lon),
            np.array(lat),
            np.array(away_lon),
            np.array(away_lat),
            np.array(subject, dtype=np.int64),
        )


def _phase(
    name: str,
    devices: _Devices,
    *,
    messages: int,
    per_message: int,
    rate: float | None,
    starts: float,
    nominal_fixes_s: float,
    first_seq: int,
    away_from: NDArray[np.float64] | None = None,
) -> _Phase:
    """Message j comes from device j mod n with `per_message` consecutive fixes, stamped as
    if sent at `nominal_fixes_s` from `starts` on; with `away_from` (per subject, a fraction
    of the phase, inf for never), a subject's fixes from then on are far outside its
    district."""
    n = len(devices.code)
    k = np.arange(messages * per_message, dtype=np.int64)
    device = (k // per_message) % n
    when = starts + k / nominal_fixes_s
    lon, lat = devices.lon[device], devices.lat[device]
    if away_from is not None:
        away = k / k.size >= away_from[devices.subject[device]]
        lon = np.where(away, devices.away_lon[device], lon)
        lat = np.where(away, devices.away_lat[device], lat)
    bodies = fix_bodies(when, lon, lat, first_seq + k)
    topics = [f"cc/v1/devices/{devices.code[d]}/fix" for d in device[::per_message].tolist()]
    if per_message == 1:
        return _Phase(name, Load(topics, bodies), 1, rate, first_seq)
    payloads = [as_batch(bodies[i : i + per_message]) for i in range(0, len(bodies), per_message)]
    return _Phase(name, Load(topics, payloads), per_message, rate, first_seq)


class _TimedPipeline(Pipeline):
    """Notes when each message's batch was committed (by its receive time); counts what is
    stored for the publisher to see."""

    def __init__(self, *args: Any, stored: Synchronized[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[float] = []
        self.committed: list[float] = []
        self._stored = stored

    async def process(self, messages: list[Message]) -> None:
        await super().process(messages)
        devices = [m for m in messages if not m.marker]
        self.received.extend(m.received for m in devices)
        self.committed.extend(itertools.repeat(time.time(), len(devices)))
        self._stored.value = self.stats.stored


def _ingest(
    settings: Settings, stored: Synchronized[int], ready: Event, stop: Event, out: Connection
) -> None:
    asyncio.run(_run_ingest(settings, stored, ready, stop, out))


async def _run_ingest(
    settings: Settings, stored: Synchronized[int], ready: Event, stop: Event, out: Connection
) -> None:
    assert settings.database_url is not None
    async with connection_pool(settings.database_url) as pool:
        pipeline = _TimedPipeline(pool, pipeline_config(settings), stored=stored)
        queue = message_queue(settings.batch_size)
        connected = asyncio.Event()
        task = asyncio.create_task(ingest_task(pipeline, settings, queue, connected=connected))
        await connected.wait()
        ready.set()
        while not stop.is_set():  # noqa: ASYNC110 (a multiprocessing event)
            await asyncio.sleep(0.1)
        await cancel_all([task])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.send(
        _Ingested(
            np.array(pipeline.received),
            np.array(pipeline.committed),
            # not ru_maxrss: that keeps the parent's size at the fork before the exec
            _peak_kib(os.getpid()),
            usage.ru_utime + usage.ru_stime,
        )
    )


@dataclass(frozen=True, slots=True)
class _Ingested:
    """What one ingest process did: per message, when received and when committed."""

    received: NDArray[np.float64]
    committed: NDArray[np.float64]
    peak_kib: int
    cpu_s: float

    @classmethod
    def merge(cls, parts: list[_Ingested]) -> _Ingested:
        received = np.concatenate([p.received for p in parts])
        order = np.argsort(received, kind="stable")
        return cls(
            received[order],
            np.concatenate([p.committed for p in parts])[order],
            sum(p.peak_kib for p in parts),
            sum(p.cpu_s for p in parts),
        )

    def commits(self, received: NDArray[np.float64]) -> NDArray[np.float64]:
        """The commit time of the messages received at these times (as stored, to the
        microsecond); NaN where none matches."""
        i = np.clip(np.searchsorted(self.received, received - 1e-6), 0, self.received.size - 1)
        found = np.abs(self.received[i] - received) <= 1e-6
        return np.where(found, self.committed[i], np.nan)


def _peak_kib(pid: int) -> int:
    """A process's peak resident memory since it started its program (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


async def _seed(url: str, city: City) -> None:
    await prepare_database(url)
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        await seed_city(conn, city)


async def _stored(url: str, phase: _Phase) -> tuple[int, int, NDArray[np.float64]]:
    """(rows, distinct fixes, per row: seq and receive time) stored for the phase."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT seq, extract(epoch FROM received_at)::float8 FROM fixes"
            " WHERE seq >= %s AND seq < %s",
            (phase.first_seq, phase.first_seq + phase.fixes),
        )
        rows = np.array(await cur.fetchall(), dtype=np.float64).reshape(-1, 2)
    distinct = np.unique(rows[:, 0]).size
    return rows.shape[0], distinct, rows


async def _exits(url: str, phase: _Phase) -> NDArray[np.float64]:
    """Per zone exit alert: the seq and receive time of the fix that confirmed it."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT f.seq, extract(epoch FROM f.received_at)::float8 FROM alerts a"
            " JOIN fixes f ON f.subject_id = a.subject_id AND f.time = a.fix_time"
            " WHERE a.kind = 'zone_exit' AND f.seq >= %s AND f.seq < %s",
            (phase.first_seq, phase.first_seq + phase.fixes),
        )
        exits: NDArray[np.float64] = np.array(await cur.fetchall(), dtype=np.float64)
    return exits.reshape(-1, 2)


def _latency(
    rows: NDArray[np.float64], phase: _Phase, published: NDArray[np.float64], ingested: _Ingested
) -> NDArray[np.float64]:
    """Per stored row (seq, received): its batch's commit time minus its message's publish
    time."""
    message = ((rows[:, 0] - phase.first_seq) // phase.per_message).astype(np.int64)
    latency: NDArray[np.float64] = ingested.commits(rows[:, 1]) - published[message]
    return latency[~np.isnan(latency)]


def run(
    settings: Settings,
    *,
    subjects: int,
    single: int,
    batched: int,
    paced_rate: float,
    paced_s: float,
    processes: int,
) -> None:
    with tempfile.TemporaryDirectory(prefix="ccmon-e2e-") as folder:
        Path(folder).chmod(0o755)  # Mosquitto reads its config as its own user
        city = generate_city(1, subjects=subjects, wristbands=subjects // 4)
        phases = _phases(_Devices.of(city), single, batched, paced_rate, paced_s)
        asyncio.run(_run(settings, Path(folder), city, phases, processes))


def _phases(
    devices: _Devices, single: int, batched: int, paced_rate: float, paced_s: float
) -> list[_Phase]:
    walkers = np.full(int(devices.subject.max()) + 1, np.inf)
    walkers[::4] = np.linspace(0.1, 0.8, walkers[::4].size)  # a quarter walk out, spread
    # Device clocks run on from phase to phase: a fix older than one already judged for
    # its subject would be ignored by the rules as late.
    single_s, batched_s = single / 20_000, batched * _BATCH / 100_000
    starts = time.time()
    return [
        _phase(
            "single",
            devices,
            messages=single,
            per_message=1,
            rate=None,
            starts=starts,
            nominal_fixes_s=20_000,
            first_seq=0,
        ),
        _phase(
            "batched",
            devices,
            messages=batched,
            per_message=_BATCH,
            rate=None,
            starts=starts + single_s,
            nominal_fixes_s=100_000,
            first_seq=single,
        ),
        _phase(
            "paced",
            devices,
            messages=int(paced_rate * paced_s),
            per_message=1,
            rate=paced_rate,
            starts=starts + single_s + batched_s,
            nominal_fixes_s=paced_rate,
            first_seq=single + batched * _BATCH,
            away_from=walkers,
        ),
    ]


async def _run(
    settings: Settings, folder: Path, city: City, phases: list[_Phase], processes: int
) -> None:
    port = free_port()
    config = mosquitto_config(port=port, persistence_dir=None)
    async with scratch_database(settings.database_url) as url:
        devices = sum(len(s.devices) for s in city.subjects)
        print(f"registering {len(city.subjects):,} subjects, {devices:,} devices")
        await _seed(url, city)
        with running_mosquitto(folder, config, port) as broker:
            ingest = [
                settings.model_copy(
                    update={
                        "database_url": url,
                        "mqtt_host": "127.0.0.1",
                        "mqtt_port": port,
                        "mqtt_username": None,
                        "mqtt_password": None,
                        "mqtt_client_id": f"ccmon-e2e-{i}",
                        "mqtt_share_group": "ccmon-e2e" if processes > 1 else None,
                    }
                )
                for i in range(processes)
            ]
            rows = await asyncio.to_thread(_measure, ingest, phases, url, broker.pid)
    print_table(rows)


def _measure(
    settings: list[Settings], phases: list[_Phase], url: str, broker_pid: int
) -> list[tuple[str, str]]:
    spawn = multiprocessing.get_context("spawn")
    stored = [spawn.Value("q", 0) for _ in settings]
    ready = [spawn.Event() for _ in settings]
    stop = spawn.Event()
    pipes = [spawn.Pipe(duplex=False) for _ in settings]
    children = [
        spawn.Process(target=_ingest, args=(s, n, r, stop, send))
        for s, n, r, (_, send) in zip(settings, stored, ready, pipes, strict=True)
    ]
    for child in children:
        child.start()
    published: dict[str, NDArray[np.float64]] = {}
    try:
        if not all(r.wait(120) for r in ready):
            raise SystemExit("ingest did not start")
        expected = 0
        for phase in phases:
            print(f"{phase.name}: publishing {len(phase.load):,} messages")
            port = settings[0].mqtt_port
            published[phase.name] = publish_load("127.0.0.1", port, phase.load, rate=phase.rate)
            expected += phase.fixes
            deadline = time.monotonic() + _PHASE_TIMEOUT_S
            while sum(n.value for n in stored) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            got = sum(n.value for n in stored) - expected + phase.fixes
            print(f"{phase.name}: {got:,} fixes stored")
        broker_kib = _peak_kib(broker_pid)
        stop.set()
        ingested = _Ingested.merge([receive.recv() for receive, _ in pipes])
    finally:
        stop.set()
        for child in children:
            child.join(30)
    first = settings[0]
    rows: list[tuple[str, str]] = [
        ("ingest processes (MQTT 5 shared subscription when more)", f"{len(settings)}"),
        (
            "ingest micro-batch (waits for / wait / idle; a backlog's at most)",
            f"{first.batch_size:,} / {first.batch_wait_ms} ms / {first.batch_idle_ms} ms;"
            f" {first.batch_size * QUEUED_BATCHES:,}",
        ),
    ]
    for phase in phases:
        rows += _phase_rows(phase, published[phase.name], ingested, url)
    rows += [
        (
            "ingest: peak memory (all processes) / CPU time",
            f"{ingested.peak_kib / 1024:,.0f} MiB / {ingested.cpu_s:,.1f} s",
        ),
        ("Mosquitto: peak memory", f"{broker_kib / 1024:,.0f} MiB"),
    ]
    return rows


def _phase_rows(
    phase: _Phase, sent: NDArray[np.float64], ingested: _Ingested, url: str
) -> list[tuple[str, str]]:
    rows_n, distinct, rows = asyncio.run(_stored(url, phase))
    committed = ingested.commits(rows[:, 1])
    span = np.nanmax(committed) - sent[0] if rows_n else np.nan
    out = [
        (
            f"{phase.name}: fixes published / stored / distinct",
            f"{phase.fixes:,} / {rows_n:,} / {distinct:,}"
            + ("  (each exactly once)" if rows_n == distinct == phase.fixes else "  MISMATCH"),
        ),
        (
            f"{phase.name}: messages/s handed to the broker ({phase.per_message} fix each)",
            f"{len(sent) / (sent[-1] - sent[0]):,.0f}"
            + ("" if phase.rate is None else f" (paced at {phase.rate:,.0f})"),
        ),
        (f"{phase.name}: fixes/s stored, sustained", f"{rows_n / span:,.0f}"),
        (
            f"{phase.name}: publish -> stored p50 / p99 / max",
            ms(_latency(rows, phase, sent, ingested)),
        ),
    ]
    if phase.name == "paced":
        exits = asyncio.run(_exits(url, phase))
        out += [
            (f"{phase.name}: zone exits alerted", f"{exits.shape[0]:,}"),
            (
                f"{phase.name}: publish -> alert committed p50 / p99 / max",
                ms(_latency(exits, phase, sent, ingested)),
            ),
        ]
    return out
