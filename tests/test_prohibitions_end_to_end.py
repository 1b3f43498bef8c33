"""Prohibition orders (禁止令) through the real parts: the simulator's phones (a protected
person's among them), Mosquitto, the pipeline, PostgreSQL. A subject heading for the person
the court protects is warned of, then alerted once, and pursued with the protected person's
phone (they consented); two co-defendants meeting are alerted once each; the protected
person's positions are kept apart from every subject's."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import store
from alerts import sms
from ccmon.city import prepare_run, seed_city
from domain import AlertState
from ingest import CommandChannel, MqttConfig
from simulators import Kind, Scenario, generate_city, simulate_city
from tests.running import LIMITS, levels, running_pipeline

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker

TIME_SCALE = 10.0
PHONE = "+8613800000017"
QUICK = levels(phone_interval_s=30.0, wristband_interval_s=30.0, silence_grace_s=30.0)


async def test_a_subject_heading_for_a_protected_person_and_two_who_meet_are_alerted(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    scenarios = (Scenario(Kind.APPROACH_VICTIM, 20.0), Scenario(Kind.MEET_CODEFENDANT, 20.0))
    city = generate_city(7, subjects=6, wristbands=0, scenarios=scenarios)
    async with pool.connection() as conn:
        await seed_city(conn, city)
        await prepare_run(conn, city, start=datetime.now(UTC), time_scale=TIME_SCALE)
        await conn.execute(  # asked to be warned by text, and consented to a pursuit
            "UPDATE protected_persons SET phone = %s, sms_opt_in = true, pursuit_consent = true",
            (PHONE,),
        )
    channel = CommandChannel(
        pool,
        MqttConfig(mosquitto.host, mosquitto.port, client_id="prohibitions-commands"),
        limits=LIMITS,
        poll_s=0.1,
    )
    async with running_pipeline(pool, mosquitto, client_id="prohibitions", policy=QUICK) as p:
        commands_out = asyncio.create_task(channel.run())
        report = await simulate_city(
            city,
            host=mosquitto.host,
            port=mosquitto.port,
            interval_s=0.3,
            duration_s=20.0,  # the pursuit's commands answered before the phones go
            time_scale=TIME_SCALE,
            seed=7,
        )
        await asyncio.sleep(1.0)
        commands_out.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await commands_out
        assert p.stats.quarantined == 0
    assert report.of("protected").fixes > 30

    async with pool.connection() as conn:
        devices = {d.code: d for d in await store.devices.load_devices(conn)}
        alerts = await store.alerts.list_alerts(
            conn, states=list(AlertState), subject_id=None, limit=1000
        )
        pairs = {r.id: r for r in await store.prohibitions.list_prohibitions(conn, offices=None)}
        cur = await conn.execute("SELECT count(*), count(DISTINCT device_id) FROM protected_fixes")
        kept, phones = await cur.fetchone() or (0, 0)
        phone = devices[city.protected[0].device.code].id
        cur = await conn.execute(
            "SELECT (SELECT count(*) FROM fixes WHERE device_id = %(d)s)"
            " + (SELECT count(*) FROM device_positions WHERE device_id = %(d)s)",
            {"d": phone},
        )
        among_subjects = (await cur.fetchone() or (None,))[0]
        cur = await conn.execute("SELECT body FROM outbox WHERE phone = %s ORDER BY id", (PHONE,))
        texts = [sms.message(body, language="en") for (body,) in await cur.fetchall()]
        cur = await conn.execute(
            "SELECT c.device_id, c.subject_id, c.alert_id, c.state, c.issued_by"
            " FROM device_commands c ORDER BY c.issued_at"
        )
        commands = await cur.fetchall()

    subject_of = {code: d.subject_id for code, d in devices.items()}
    heading = subject_of[city.subjects[0].devices[0].code]
    meeting = {
        subject_of[city.subjects[1].devices[0].code],
        subject_of[city.subjects[-1].devices[0].code],
    }
    counts = Counter((a.subject_id, a.kind) for a in alerts)
    assert counts == Counter(
        {
            (heading, "approaching"): 1,
            (heading, "protected_person_proximity"): 1,
            **{(s, "prohibited_contact"): 1 for s in meeting},
        }
    ), counts
    near = next(a for a in alerts if a.kind == "protected_person_proximity")
    assert near.message == "within 300 m of protected person P-01"
    assert near.severity == "critical"
    assert pairs[near.prohibition_id or 0].protected_person_code == "P-01"
    warned = next(a for a in alerts if a.kind == "approaching")
    assert warned.fix_time < near.fix_time  # told before, so an officer can call
    contacts = [a for a in alerts if a.kind == "prohibited_contact"]
    assert {a.prohibition_id for a in contacts} == {
        r.id for r in pairs.values() if r.other_subject_id is not None
    }
    # Warned twice, in their own language (the default, Chinese): the subject heading their
    # way, then near; neither text says who or where.
    assert len(texts) == 2
    assert "可能正在向您靠近" in texts[0]
    assert "可能就在您附近" in texts[1]
    assert "300米内" in texts[1]
    assert all(city.subjects[0].name not in t for t in texts)
    # Near them: the subject's phone and (they consented) theirs report at the pursuit's
    # rate, both asked by the alert and both answering; nobody else is pursued.
    assert sorted((c[0], c[1], c[2], c[3], c[4]) for c in commands) == sorted(
        [
            (devices[city.subjects[0].devices[0].code].id, heading, near.id, "answered", "pursuit"),
            (phone, None, near.id, "answered", "pursuit"),
        ]
    )
    # The protected person's phone: its fixes kept apart, never among any subject's.
    assert kept > 30
    assert phones == 1
    assert among_subjects == 0
