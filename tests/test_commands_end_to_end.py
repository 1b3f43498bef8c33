"""Device commands through the real parts: the API issues, the command channel publishes to
Mosquitto, the simulator's devices (their own MQTT clients) obey or do not, and what they
answer comes back: a locate answered with a fix within seconds; a check-in to a device that
never answers expires into an alert; a strap cut switches the subject's devices to the
pursuit rate, and acknowledging the alert switches them back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import aiomqtt

import store
from ccmon.city import prepare_run, seed_city
from domain import AlertKind, AlertState, DeviceKind
from ingest import CommandChannel, MqttConfig
from simulators import Kind, Scenario, fix_payload, generate_city, simulate_city
from tests.helpers import now_minus, offset, seed_subject, until
from tests.running import LIMITS, levels, running_pipeline

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker

PURSUIT = levels(pursuit_interval_s=0.25, pursuit_max_s=120)


async def _commands(
    pool: AsyncConnectionPool[Any], **where: Any
) -> list[store.commands.CommandRow]:
    async with pool.connection() as conn:
        return await store.commands.list_commands(conn, **where)


async def _fix_count(pool: AsyncConnectionPool[Any], device_id: int, since: float) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM fixes WHERE device_id = %s AND received_at >= %s",
            (device_id, datetime.fromtimestamp(since, UTC)),
        )
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


async def test_devices_answer_commands_and_pursuits_follow_alerts(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, api: httpx.AsyncClient
) -> None:
    city = generate_city(11, subjects=3, wristbands=0, scenarios=(Scenario(Kind.CUT_STRAP, 30.0),))
    cutter, located, deaf = city.subjects
    async with pool.connection() as conn:
        await seed_city(conn, city)
        await prepare_run(conn, city, start=datetime.now(UTC), time_scale=10.0)
        devices = {d.code: d for d in await store.devices.load_devices(conn)}
    channel = CommandChannel(
        pool,
        MqttConfig(mosquitto.host, mosquitto.port, client_id="commands-test"),
        limits=LIMITS,
        poll_s=0.1,
    )
    deaf_phone = deaf.devices[0].code
    async with (
        running_pipeline(pool, mosquitto, client_id="commands-ingest", policy=PURSUIT),
        asyncio.TaskGroup() as tg,
    ):
        channel_task = tg.create_task(channel.run())
        simulation = tg.create_task(
            simulate_city(
                city,
                host=mosquitto.host,
                port=mosquitto.port,
                interval_s=1.0,
                duration_s=60.0,
                time_scale=10.0,
                seed=11,
                deaf=frozenset({deaf_phone}),
            )
        )
        try:
            await asyncio.sleep(1.0)  # the devices are connected and subscribed
            # Locate now: answered, with a fix, within seconds.
            phone = devices[located.devices[0].code]
            issued = time.time()
            locate = await api.post(f"/api/v1/devices/{phone.id}/commands", json={"kind": "locate"})
            assert locate.status_code == 201, locate.text
            assert locate.json()["state"] == "pending"

            async def answered() -> bool:
                (row,) = await _commands(pool, command_id=locate.json()["id"])
                return row.state == "answered"

            await until(answered, timeout=10, what="the locate answered")
            (done,) = await _commands(pool, command_id=locate.json()["id"])
            assert done.answered_at is not None
            assert (done.answered_at.timestamp() - issued) < 5.0
            assert done.answer is not None
            assert await _fix_count(pool, phone.id, issued) >= 1
            # A check-in to a device that never answers: expired, and an alert.
            check_in = await api.post(
                f"/api/v1/devices/{devices[deaf_phone].id}/commands",
                json={"kind": "check_in", "expires_in_s": 10},
            )
            assert check_in.status_code == 201, check_in.text
            # Meanwhile the strap cut (20 s into the run at 10x) opens a tamper alert and a
            # pursuit: every device of the subject reports every 0.25 s.
            band = next(d for d in cutter.devices if d.kind is DeviceKind.WRISTBAND)
            cut_phone = devices[next(d.code for d in cutter.devices if d is not band)]

            async def pursued() -> bool:
                rows = await _commands(pool, subject_id=cut_phone.subject_id)
                return sum(r.issued_by == "pursuit" and r.state == "answered" for r in rows) == 2

            await until(pursued, timeout=20, what="the pursuit switched on")
            before = time.time()
            await asyncio.sleep(3.0)
            fast = await _fix_count(pool, cut_phone.id, before)
            assert fast >= 8, fast  # 12 at 0.25 s (1 s is the strict rate here: 3)
            (tamper,) = [
                a
                for a in await _live(pool, cut_phone.subject_id)
                if a.kind == AlertKind.TAMPER.value
            ]
            # Acknowledged: back to the level's rate.
            ack = await api.post(f"/api/v1/alerts/{tamper.id}/acknowledge")
            assert ack.status_code == 200, ack.text

            async def released() -> bool:
                rows = await _commands(pool, subject_id=cut_phone.subject_id)
                back = [r for r in rows if r.alert_id == tamper.id and r.issued_by != "pursuit"]
                return len(back) == 2 and all(r.state == "answered" for r in back)

            await until(released, timeout=10, what="the pursuit switched off")
            before = time.time()
            await asyncio.sleep(3.0)
            slow = await _fix_count(pool, cut_phone.id, before)
            assert slow <= 5, slow

            async def missed() -> bool:
                alerts = await _live(pool, devices[deaf_phone].subject_id)
                return any(a.kind == AlertKind.CHECK_IN_MISSED.value for a in alerts)

            await until(missed, timeout=15, what="the check-in expired into an alert")
            (expired,) = await _commands(pool, command_id=check_in.json()["id"])
            assert (expired.state, expired.delivered_at) == ("expired", None)
            # Over the API: who issued what, and its state.
            listed = await api.get(f"/api/v1/devices/{phone.id}/commands")
            assert [(c["kind"], c["state"], c["issued_by"]) for c in listed.json()] == [
                ("locate", "answered", "officer")
            ]
        finally:
            simulation.cancel()
            channel_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await simulation


async def _live(
    pool: AsyncConnectionPool[Any], subject_id: int | None
) -> list[store.alerts.AlertRow]:
    assert subject_id is not None
    async with pool.connection() as conn:
        return await store.alerts.list_alerts(
            conn, states=[AlertState.OPEN, AlertState.ACKNOWLEDGED], subject_id=subject_id, limit=50
        )


async def test_a_device_cannot_call_off_its_own_check_in(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    """Deaf but malicious: a device that answers a check-in `failed`, or `answered` without
    a fix, still ends in `check_in_missed` (its words in the alert); one answered with a
    fix is answered."""
    seeded = await seed_subject(pool, code="check-in-liar")
    async with pool.connection() as conn:
        (device,) = [
            d for d in await store.devices.load_devices(conn) if d.code == seeded.device_code
        ]
    topic = f"cc/v1/devices/{seeded.device_code}"
    channel = CommandChannel(
        pool,
        MqttConfig(mosquitto.host, mosquitto.port, client_id="check-in-channel"),
        limits=LIMITS,
        poll_s=0.1,
    )
    async with (
        running_pipeline(pool, mosquitto, client_id="check-in-ingest"),
        aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="check-in-liar") as phone,
        asyncio.TaskGroup() as tg,
    ):
        await phone.subscribe(f"{topic}/cmd", qos=1)
        channel_task = tg.create_task(channel.run())
        lon, lat = offset(0.0, 0.0)
        answers: list[dict[str, Any]] = [
            {"status": "failed", "error": "busy, not now"},
            {"status": "answered", "answer": {"present": True}},  # and no fix
            {"status": "answered", "answer": {"present": True}},  # after a fix
        ]
        issued: list[UUID] = []

        async def issue() -> None:
            async with pool.connection() as conn:
                issued.append(
                    await store.commands.issue_command(
                        conn,
                        device_id=device.id,
                        kind="check_in",
                        params={},
                        expires_in_s=2,
                        actor="officer",
                    )
                )

        async def ended() -> bool:
            rows = await _commands(pool, subject_id=seeded.subject_id)
            return all(r.state in ("expired", "answered") for r in rows)

        await issue()
        await issue()
        async for message in phone.messages:
            command = json.loads(bytes(message.payload))
            i = issued.index(UUID(command["id"]))
            if i == 2:
                fix = fix_payload(
                    when=now_minus(0), lon=lon, lat=lat, accuracy=9, battery=70, seq=1
                )
                await phone.publish(f"{topic}/fix", fix, qos=1)
            await phone.publish(
                f"{topic}/cmd/result", json.dumps({"id": command["id"], **answers[i]}), qos=1
            )
            if i == 1:
                await until(ended, timeout=15, what="the first two check-ins ended")
                await issue()
            if i == 2:
                break
        await until(ended, timeout=15, what="the third check-in ended")
        states = {r.id: r.state for r in await _commands(pool, subject_id=seeded.subject_id)}
        assert [states[i] for i in issued] == ["expired", "expired", "answered"]

        async def missed() -> list[str]:
            (alert,) = [
                a
                for a in await _live(pool, seeded.subject_id)
                if a.kind == AlertKind.CHECK_IN_MISSED.value
            ]
            async with pool.connection() as conn:
                return [
                    e.note or "" for e in await store.alerts.alert_events(conn, alert_id=alert.id)
                ]

        notes = await missed()
        channel_task.cancel()
    assert len(notes) == 2  # opened, then repeated by the second
    assert any("(the device said: busy, not now)" in n for n in notes), notes
