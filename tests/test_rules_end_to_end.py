"""Each rule through the real parts (Mosquitto, the pipeline, PostgreSQL, the API): the alert
it must raise, once, and the cases that must raise nothing."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import store
from domain import DeviceKind, Schedule, WeeklyWindow, ZoneRole
from domain.crs import Crs
from simulators import event_payload, fix_payload
from tests.helpers import now_minus, offset, seed_subject, until
from tests.running import (
    history,
    levels,
    live_alerts,
    processed,
    publish,
    running_pipeline,
    walk,
)

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline
    from tests.conftest import Broker
    from tests.helpers import Seeded


async def alert_kinds(pool: AsyncConnectionPool[Any], subject_id: int) -> list[str]:
    return sorted(a.kind for a in await live_alerts(pool, subject_id))


async def test_an_exit_is_alerted_once_coming_back_is_recorded_and_officers_close_it(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    api: httpx.AsyncClient,
) -> None:
    seeded = await seed_subject(pool, code="rules-exit")
    await pipeline.refresh()
    path = [0.0, 1500.0, 1600.0, 1700.0, 400.0, 300.0]  # out (confirmed at 1600), back in
    await publish(mosquitto, walk(seeded, path))
    await until(lambda: processed(pipeline, len(path)), what="the walk processed")
    (alert,) = await live_alerts(pool, seeded.subject_id)
    assert (alert.kind, alert.severity, alert.condition, alert.count) == (
        "zone_exit",
        "high",
        "cleared",
        1,
    )

    ack = await api.post(f"/api/v1/alerts/{alert.id}/acknowledge")
    assert (ack.status_code, ack.json()["state"], ack.json()["acknowledged_by"]) == (
        200,
        "acknowledged",
        "officer",
    )
    again = await api.post(f"/api/v1/alerts/{alert.id}/acknowledge")
    assert again.status_code == 409
    assert "acknowledged" in again.json()["detail"]
    done = await api.post(f"/api/v1/alerts/{alert.id}/resolve", json={"note": "phoned him"})
    assert (done.status_code, done.json()["state"]) == (200, "resolved")
    events = (await api.get(f"/api/v1/alerts/{alert.id}/events")).json()
    assert [(e["action"], e["actor"]) for e in events] == [
        ("opened", "ccmon-ingest"),
        ("cleared", "ccmon-ingest"),
        ("acknowledged", "officer"),
        ("resolved", "officer"),
    ]
    assert events[-1]["note"] == "phoned him"
    assert await live_alerts(pool, seeded.subject_id) == []


async def test_uncertain_late_and_duplicate_fixes_raise_nothing(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="rules-quiet")
    await pipeline.refresh()
    # Accuracy circles reaching over the border at +1000 m prove nothing.
    await publish(mosquitto, walk(seeded, [1100.0, 1150.0, 1200.0], accuracy=400.0))
    # One fix outside, delivered twice (QoS 1 redelivery): still one fix.
    (outside,) = walk(seeded, [1500.0])
    await publish(mosquitto, [outside, outside])
    # Inside now; then two fixes from half a minute ago outside arrive late.
    await publish(mosquitto, walk(seeded, [0.0]))
    await until(lambda: processed(pipeline, 6), what="the current fixes processed")
    late = [
        (
            f"cc/v1/devices/{seeded.device_code}/fix",
            fix_payload(
                when=now_minus(30 - i), lon=lon, lat=lat, accuracy=10, battery=80, seq=100 + i
            ),
        )
        for i, (lon, lat) in enumerate([offset(2000.0, 0.0), offset(2100.0, 0.0)])
    ]
    await publish(mosquitto, late)
    await until(lambda: processed(pipeline, 8), what="every fix processed")
    async with pool.connection() as conn:
        stored = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=20)
    assert len(stored) == 7  # the late fixes are kept for the record
    assert await live_alerts(pool, seeded.subject_id) == []


async def test_rule_state_survives_a_restart_of_the_pipeline(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="rules-restart")
    first, second = walk(seeded, [1500.0, 1600.0])
    async with running_pipeline(pool, mosquitto, client_id="rules-restart-1") as p:
        await publish(mosquitto, [first])
        await until(lambda: processed(p, 1), what="the first fix processed")
    assert await live_alerts(pool, seeded.subject_id) == []
    async with running_pipeline(pool, mosquitto, client_id="rules-restart-2") as p:
        await publish(mosquitto, [second])
        await until(lambda: processed(p, 1), what="the second fix processed")
        # The run of one outside fix was remembered: the second confirms it.
        assert await alert_kinds(pool, seeded.subject_id) == ["zone_exit"]


async def seed_exclusion(pool: AsyncConnectionPool[Any], seeded: Seeded, east_m: float) -> int:
    lon, lat = offset(east_m, 0.0)
    async with pool.connection() as conn:
        zone = await store.zones.create_zone(
            conn,
            name="victim's home",
            geometry={"type": "Circle", "center": [lon, lat], "radius_m": 150.0},
        )
        return await store.assignments.assign_zone(
            conn, subject_id=seeded.subject_id, zone_id=zone, role=ZoneRole.EXCLUSION
        )


async def test_entering_an_exclusion_zone_is_critical_and_needs_a_note_to_close(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    api: httpx.AsyncClient,
) -> None:
    seeded = await seed_subject(pool, code="rules-entry")
    await seed_exclusion(pool, seeded, 500.0)
    await pipeline.refresh()
    await publish(mosquitto, walk(seeded, [0.0, 480.0, 510.0, 520.0]))
    await until(lambda: processed(pipeline, 4), what="the walk processed")
    (alert,) = await live_alerts(pool, seeded.subject_id)
    assert (alert.kind, alert.severity, alert.zone_name) == (
        "zone_entry",
        "critical",
        "victim's home",
    )
    bare = await api.post(f"/api/v1/alerts/{alert.id}/dismiss", json={})
    assert bare.status_code == 422
    assert "note" in bare.json()["detail"]
    noted = await api.post(
        f"/api/v1/alerts/{alert.id}/dismiss", json={"note": "GNSS drift; he was at work"}
    )
    assert (noted.status_code, noted.json()["state"], noted.json()["closed_by"]) == (
        200,
        "dismissed",
        "officer",
    )


async def test_a_critical_alert_left_unacknowledged_is_escalated_once(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="rules-escalate")
    cut = event_payload(when=now_minus(1), event="strap_cut", battery=70, seq=1)
    async with running_pipeline(
        pool, mosquitto, client_id="rules-escalate", escalate_after_s=0.5
    ) as p:
        await publish(mosquitto, [(f"cc/v1/devices/{seeded.device_code}/status", cut)])
        await until(lambda: _has_alert(pool, seeded.subject_id), what="the tamper alert")
        (alert,) = await live_alerts(pool, seeded.subject_id)
        await until(lambda: _escalated(pool, alert.id), what="the escalation", timeout=10.0)
        await p.tick(time.time())
    assert await history(pool, alert.id) == ["opened", "escalated"]


async def _has_alert(pool: AsyncConnectionPool[Any], subject_id: int) -> bool:
    return bool(await live_alerts(pool, subject_id))


async def _escalated(pool: AsyncConnectionPool[Any], alert_id: int) -> bool:
    return "escalated" in await history(pool, alert_id)


async def test_device_status_events_raise_repeat_and_clear(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="rules-status")
    await pipeline.refresh()
    topic = f"cc/v1/devices/{seeded.device_code}/status"

    def status(event: str, seconds_ago: float, seq: int) -> tuple[str, bytes]:
        return topic, event_payload(when=now_minus(seconds_ago), event=event, battery=40, seq=seq)

    cut = status("strap_cut", 9, 1)
    await publish(
        mosquitto,
        [
            cut,
            cut,  # a QoS 1 redelivery: not a second tamper
            status("power_off", 8, 2),  # a restart: nothing to raise
            status("power_on", 7, 3),
            status("strap_opened", 6, 4),  # a second tamper while the first is live: a repeat
            status("charging", 5, 5),  # clears no low battery: none was raised
        ],
    )
    await until(lambda: _events_stored(pipeline, 5), what="the events stored")
    alerts = {a.kind: a for a in await live_alerts(pool, seeded.subject_id)}
    assert sorted(alerts) == ["tamper"]
    assert (alerts["tamper"].severity, alerts["tamper"].count) == ("critical", 2)
    assert alerts["tamper"].device_code == seeded.device_code
    assert await history(pool, alerts["tamper"].id) == ["opened", "repeated"]


async def _events_stored(pipeline: Pipeline, n: int) -> bool:
    return pipeline.stats.events >= n and pipeline.stats.received >= n + 1


async def seed_wristband(pool: AsyncConnectionPool[Any], seeded: Seeded) -> str:
    code = f"{seeded.device_code}-band"
    async with pool.connection() as conn:
        await store.devices.create_device(
            conn, actor="test", code=code, kind=DeviceKind.WRISTBAND, subject_id=seeded.subject_id
        )
    return code


def both(
    seeded: Seeded, band: str, phone_east: float, band_east: float, seconds_ago: float, seq: int
) -> list[tuple[str, bytes]]:
    """A GCJ-02 phone fix (as a Chinese map SDK reports) and a WGS-84 wristband fix."""
    when = now_minus(seconds_ago)
    (plon, plat), (blon, blat) = offset(phone_east, 0.0), offset(band_east, 0.0)
    return [
        (
            f"cc/v1/devices/{seeded.device_code}/fix",
            fix_payload(
                when=when, lon=plon, lat=plat, accuracy=10, battery=80, seq=seq, crs=Crs.GCJ02
            ),
        ),
        (
            f"cc/v1/devices/{band}/fix",
            fix_payload(
                when=when + timedelta(seconds=0.5),
                lon=blon,
                lat=blat,
                accuracy=8,
                battery=80,
                seq=seq,
            ),
        ),
    ]


async def test_phone_and_wristband_in_different_datums_on_one_person_are_together(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="rules-together")
    band = await seed_wristband(pool, seeded)
    await pipeline.refresh()
    # GCJ-02 is some 500 m off WGS-84 here: unconverted, these would be "apart".
    fixes = [f for i in range(8) for f in both(seeded, band, 10.0 * i, 10.0 * i, 8 - i, i)]
    await publish(mosquitto, fixes)
    await until(lambda: processed(pipeline, len(fixes)), what="the fixes processed")
    assert await live_alerts(pool, seeded.subject_id) == []


async def test_a_phone_left_at_home_raises_a_separation_alert(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="rules-apart")
    band = await seed_wristband(pool, seeded)
    await pipeline.refresh()
    # The phone stays at home; the person walks off 80 m per second (policy: 100 m, 3 s).
    fixes = [f for i in range(8) for f in both(seeded, band, 0.0, 80.0 * i, 8 - i, i)]
    await publish(mosquitto, fixes)
    await until(lambda: processed(pipeline, len(fixes)), what="the fixes processed")
    (alert,) = await live_alerts(pool, seeded.subject_id)
    assert (alert.kind, alert.severity, alert.count) == ("separation", "high", 1)
    assert alert.message.startswith("phone and wristband")


async def test_silence_is_noticed_on_the_clock_per_subject_then_per_device(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="rules-silent")
    band = await seed_wristband(pool, seeded)
    quick = levels(phone_interval_s=1.0, wristband_interval_s=1.0, silence_grace_s=1.0)
    async with running_pipeline(pool, mosquitto, client_id="rules-silent", policy=quick) as p:
        # Both devices silent together: one alert, the subject's (失联).
        await until(
            lambda: _kinds_are(pool, seeded.subject_id, ["subject_silent"]),
            what="the subject's silence alert",
        )
        # The wristband speaks again: the subject's silence ends, and the phone, silent
        # still, now has an alert of its own.
        await publish(mosquitto, walk(seeded, [0.0], device=band))
        await until(lambda: processed(p, 1), what="the fix processed")
        await until(lambda: _cleared(pool, seeded.subject_id, 1), what="silence cleared")
        await until(
            lambda: _kinds_are(pool, seeded.subject_id, ["device_silent", "subject_silent"]),
            what="the phone's silence alert",
        )
    # (The band may have gone silent again since: the history keeps every step.)
    histories = {
        (a.kind, a.device_code): await history(pool, a.id)
        for a in await live_alerts(pool, seeded.subject_id)
    }
    assert histories[("device_silent", seeded.device_code)] == ["opened"]
    assert histories[("subject_silent", None)][:2] == ["opened", "cleared"]
    assert ("device_silent", band) not in histories


async def _kinds_are(pool: AsyncConnectionPool[Any], subject_id: int, kinds: list[str]) -> bool:
    return await alert_kinds(pool, subject_id) == kinds


async def _cleared(pool: AsyncConnectionPool[Any], subject_id: int, n: int) -> bool:
    alerts = await live_alerts(pool, subject_id)
    return sum(["cleared" in await history(pool, a.id) for a in alerts]) >= n


async def test_a_subject_away_when_the_curfew_begins_is_alerted_at_its_start(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="rules-curfew")
    shanghai = ZoneInfo("Asia/Shanghai")
    begins = (datetime.now(shanghai) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    ends = begins + timedelta(hours=8)
    curfew = Schedule(
        timezone="Asia/Shanghai",
        weekly=(WeeklyWindow(tuple(range(7)), begins.time(), ends.time()),),
    )
    lon, lat = offset(100.0, 0.0)
    async with pool.connection() as conn:
        home = await store.zones.create_zone(
            conn,
            name="home",
            geometry={"type": "Circle", "center": [lon, lat], "radius_m": 50.0},
        )
        assignment = await store.assignments.assign_zone(
            conn,
            subject_id=seeded.subject_id,
            zone_id=home,
            role=ZoneRole.INCLUSION,
            schedule=curfew,
        )
    # The clock is driven by hand here: ticks at chosen instants around the window's start.
    async with running_pipeline(pool, mosquitto, client_id="rules-curfew", tick_s=3600) as p:
        await publish(mosquitto, walk(seeded, [600.0]))  # in the district, not at home
        await until(lambda: processed(p, 1), what="the fix processed")
        await p.tick(begins.timestamp() - 30)
        assert await live_alerts(pool, seeded.subject_id) == []
        await p.tick(begins.timestamp())
    (alert,) = await live_alerts(pool, seeded.subject_id)
    async with pool.connection() as conn:
        (newest,) = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=1)
    # Raised at the window's start, from (and dated by) the newest fix known then.
    assert (alert.kind, alert.assignment_id, alert.fix_time) == ("curfew", assignment, newest.time)
    assert alert.message.startswith("not home when the curfew began")
