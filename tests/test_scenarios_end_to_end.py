"""Every simulator scenario through the real parts (the simulator's own MQTT clients,
Mosquitto, the pipeline, PostgreSQL) raises the alerts it is meant to, and nothing else."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import store
from alerts import SuspectPolicy
from ccmon.city import prepare_run, seed_city
from domain import AlertState
from simulators import EXPECTED_ALERTS, Kind, Scenario, generate_city, simulate_city
from tests.running import levels, running_pipeline

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker

TIME_SCALE = 10.0  # movement ten times real time: a 900 m drive takes 3 s
# The faked locations once the phone has a track behind it (a jump needs one), a still phone
# early enough for the band to get away and stay away.
FAKING = {Kind.TELEPORT: 70.0, Kind.CLOCK_BACK: 50.0, Kind.STILL_PHONE: 40.0, Kind.MOCK_APP: 40.0}
SCENARIOS = tuple(Scenario(kind, after_s=FAKING.get(kind, 20.0)) for kind in Kind)
# Phones silent for 3 s count as silent; wristbands, which get no fix indoors most of the
# time, only after 10 s; a low battery uncharged for 1.5 s is raised; the early warning looks
# 30 s ahead (the 5 minutes it looks at real speeds).
QUICK = levels(
    phone_interval_s=1.5,
    wristband_interval_s=5.0,
    silence_grace_s=1.5,
    separation_s=3.0,
    low_battery_hold_s=1.5,
    zone_warn_s=300.0 / TIME_SCALE,
)
# Movement is ten times real speed (a highway drive 300 m/s), a jump holds 3 s, the clock
# goes back a minute (600 simulated seconds); a phone still for 4 s while the band walked
# 300 m is faked.
SUSPECT = SuspectPolicy(
    max_speed_mps=600.0, confirm_s=3.0, clock_drift_s=30.0, still_s=4.0, apart_m=300.0
)


async def test_each_scenario_raises_its_alerts_and_nothing_else(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    city = generate_city(5, subjects=len(SCENARIOS) + 4, wristbands=2, scenarios=SCENARIOS)
    async with pool.connection() as conn:
        await seed_city(conn, city)
        await prepare_run(conn, city, start=datetime.now(UTC), time_scale=TIME_SCALE)
    async with running_pipeline(
        pool, mosquitto, client_id="scenarios", policy=QUICK, suspect=SUSPECT
    ) as p:
        report = await simulate_city(
            city,
            host=mosquitto.host,
            port=mosquitto.port,
            interval_s=0.3,
            duration_s=16.0,
            time_scale=TIME_SCALE,
            seed=5,
        )
        await asyncio.sleep(1.0)  # the last messages through; less than any silence limit
        assert p.stats.received > 500

    async with pool.connection() as conn:
        alerts = await store.alerts.list_alerts(
            conn, states=list(AlertState), subject_id=None, limit=1000
        )
        quarantined = await store.quarantine.list_quarantine(conn, limit=1000)
        subject_of = {
            d.code: d.subject_id for d in await store.devices.load_devices(conn) if d.subject_id
        }
    kinds: dict[int, set[str]] = defaultdict(set)
    for a in alerts:
        kinds[a.subject_id].add(a.kind)
    for s in city.subjects:
        subject_id = subject_of[s.devices[0].code]
        expected = set(EXPECTED_ALERTS[s.scenario.kind]) if s.scenario else set()
        assert kinds[subject_id] == expected, (s.label, kinds[subject_id])

    malformed = next(s for s in city.subjects if s.label == Kind.MALFORMED)
    bad_topic = f"cc/v1/devices/{malformed.devices[0].code}/fix"
    refused = [q for q in quarantined if q.topic == bad_topic]
    assert len(refused) == report.of(Kind.MALFORMED).malformed > 0
    assert {q.topic for q in quarantined} == {bad_topic}  # nothing else was refused

    duplicated = next(s for s in city.subjects if s.label == Kind.DUPLICATES)
    async with pool.connection() as conn:
        stored = await store.fixes.last_fixes(
            conn, subject_id=subject_of[duplicated.devices[0].code], limit=10_000
        )
    sent = report.of(Kind.DUPLICATES)
    assert sent.duplicates > 0
    assert sent.out_of_order > 0
    assert len(stored) == len({f.seq for f in stored})  # each fix stored once
