"""Through the real parts: simulated device -> Mosquitto -> ingest -> PostgreSQL -> API."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiomqtt
import httpx
import nacl.utils
import pytest

import store
from api import PasswordChecker, create_app, hash_password
from domain import DeviceKind
from domain.crs import Crs
from ingest import Message, Pipeline, owntracks_http
from ingest.owntracks import secret_box
from simulators import event_payload, fix_payload
from tests.helpers import (
    OWNTRACKS_KEY,
    now_minus,
    offset,
    seed_owntracks_phone,
    seed_subject,
    until,
)
from tests.running import (
    LIMITS,
    levels,
    live_alerts,
    processed,
    publish,
    running_pipeline,
    walk,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

    from tests.conftest import Broker


async def test_walking_out_of_the_district_opens_exactly_one_alert(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    api: httpx.AsyncClient,
) -> None:
    seeded = await seed_subject(pool, code="e2e-walker")
    await pipeline.refresh()
    # Inside, one outside spike (not confirmed), back inside, then out for good: the zone's
    # east border is at +1000 m.
    path = [0, 300, 600, 1200, 700, 900, 1300, 1500, 1700, 1900, 2100]
    await publish(mosquitto, walk(seeded, [float(e) for e in path]))
    await until(lambda: processed(pipeline, len(path)), what="all fixes processed")

    alerts = await live_alerts(pool, seeded.subject_id)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.kind == "zone_exit"
    assert alert.zone_name == "zone for e2e-walker"
    # The spike at +1200 m was not confirmed; +1300 m then +1500 m were: 500 m outside.
    assert alert.message == "outside the inclusion zone: 500 m from its boundary"

    response = await api.get("/api/v1/alerts", params={"subject_id": seeded.subject_id})
    assert response.status_code == 200
    assert [a["id"] for a in response.json()] == [alert.id]

    fixes = await api.get(
        f"/api/v1/subjects/{seeded.subject_id}/fixes",
        params={"limit": 5, "purpose": "checking the exit alert"},
    )
    assert fixes.status_code == 200
    assert [f["seq"] for f in fixes.json()] == [10, 9, 8, 7, 6]


async def test_bad_input_is_quarantined_and_the_pipeline_keeps_going(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    admin_api: httpx.AsyncClient,
) -> None:
    seeded = await seed_subject(pool, code="e2e-quarantine")
    await pipeline.refresh()
    good = walk(seeded, [0.0])
    await publish(
        mosquitto,
        [
            ("cc/v1/devices/e2e-quarantine/fix", b'{"time": "2026-11-25T08:00:00Z", "lat": '),
            ("cc/v1/devices/nobody-here/fix", good[0][1]),
            *good,
        ],
    )
    await until(lambda: processed(pipeline, 3), what="all messages processed")

    why = {"purpose": "device support: why no fixes arrive"}
    assert (await admin_api.get("/api/v1/quarantine")).status_code == 422  # no purpose
    response = await admin_api.get("/api/v1/quarantine", params=why)
    assert response.status_code == 200
    rows = {r["topic"]: r for r in response.json()}
    assert rows["cc/v1/devices/e2e-quarantine/fix"]["reason"].startswith("not JSON")
    assert rows["cc/v1/devices/nobody-here/fix"]["reason"] == (
        "unknown device 'nobody-here': not registered"
    )
    unknown = rows["cc/v1/devices/nobody-here/fix"]
    assert unknown["payload_bytes"] == len(good[0][1])
    assert unknown["payload_preview"] == good[0][1].decode()[:200]
    assert len(rows) == 2
    whole = (await admin_api.get(f"/api/v1/quarantine/{unknown['id']}", params=why)).json()
    assert whole["payload_text"] == good[0][1].decode()
    async with pool.connection() as conn:  # raw input may hold a position: both reads recorded
        reads = await store.audit.location_reads(conn, offices=None, limit=10)
    assert [(r.what, r.purpose, r.fixes) for r in reads if r.what == "quarantine"] == [
        ("quarantine", why["purpose"], 1),
        ("quarantine", why["purpose"], 2),
    ]

    fixes = await admin_api.get(
        f"/api/v1/subjects/{seeded.subject_id}/fixes", params={"purpose": "test: stored once"}
    )
    assert len(fixes.json()) == 1


async def test_duplicate_delivery_is_stored_once(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="e2e-dup")
    await pipeline.refresh()
    fixes = walk(seeded, [0.0, 10.0])
    await publish(mosquitto, fixes + fixes)
    await until(lambda: processed(pipeline, 4), what="all deliveries processed")
    async with pool.connection() as conn:
        stored = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=10)
    assert len(stored) == 2
    assert pipeline.stats.duplicates >= 2


async def test_the_zone_index_is_rebuilt_only_when_zones_change(
    pool: AsyncConnectionPool[Any], pipeline: Pipeline
) -> None:
    await pipeline.refresh()
    first = pipeline.index
    await pipeline.refresh()
    assert pipeline.index is first
    await seed_subject(pool, code="e2e-new-zone")
    await pipeline.refresh()
    assert pipeline.index is not first


async def test_a_batch_in_chinese_map_coordinates_is_stored_in_wgs84(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    """A wristband uploads what it buffered as one batch; its items come in three CRSs."""
    seeded = await seed_subject(pool, code="e2e-batch")
    await pipeline.refresh()
    lon, lat = offset(100.0, 200.0)
    items = [
        json.loads(
            fix_payload(
                when=now_minus(30 - i), lon=lon, lat=lat, accuracy=8.0, battery=60, seq=i, crs=crs
            )
        )
        for i, crs in enumerate([Crs.WGS84, Crs.GCJ02, Crs.BD09])
    ]
    await publish(mosquitto, [("cc/v1/devices/e2e-batch/fix", json.dumps(items).encode())])
    await until(lambda: processed(pipeline, 3), what="the batch's fixes processed")
    async with pool.connection() as conn:
        stored = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=10)
    assert [f.seq for f in stored] == [2, 1, 0]
    assert {f.device_code for f in stored} == {"e2e-batch"}
    for f in stored:
        assert f.lon == pytest.approx(lon, abs=1e-7)
        assert f.lat == pytest.approx(lat, abs=1e-7)
    assert [round(f.time.timestamp()) for f in stored] == [
        round(datetime.fromisoformat(items[i]["time"]).timestamp()) for i in (2, 1, 0)
    ]


def owntracks_location(east_m: float, *, seconds_ago: float) -> dict[str, object]:
    lon, lat = offset(east_m, 0.0)
    return {
        "_type": "location",
        "tst": int(time.time() - seconds_ago),
        "lat": lat,
        "lon": lon,
        "acc": 12,
        "batt": 70,
        "conn": "m",
    }


async def test_an_encrypted_owntracks_location_is_stored_where_it_was(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_owntracks_phone(pool, "otenc")
    await pipeline.refresh()
    body = owntracks_location(250.0, seconds_ago=5)
    box = secret_box(OWNTRACKS_KEY)
    sealed = box.encrypt(json.dumps(body).encode(), nacl.utils.random(box.NONCE_SIZE))
    payload = json.dumps({"_type": "encrypted", "data": base64.b64encode(sealed).decode()})
    await publish(mosquitto, [("owntracks/otenc/phone", payload.encode())])
    await until(lambda: processed(pipeline, 1), what="the OwnTracks message processed")
    async with pool.connection() as conn:
        (fix,) = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=5)
    assert fix.device_code == "otenc"
    assert (fix.lon, fix.lat, fix.accuracy, fix.battery) == (body["lon"], body["lat"], 12, 70)
    assert fix.time.timestamp() == body["tst"]


async def test_a_retained_owntracks_location_is_stored_but_not_judged_as_now(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    """OwnTracks publishes with retain: a new subscriber first gets the last location the
    broker kept, perhaps from yesterday. It is recorded, but raises no alert."""
    seeded = await seed_owntracks_phone(pool, "otretained")
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
        stale = json.dumps(owntracks_location(5000.0, seconds_ago=3600)).encode()
        await client.publish("owntracks/otretained/phone", stale, qos=1, retain=True)
    try:
        async with running_pipeline(
            pool, mosquitto, client_id="ingest-retained", policy=levels(confirm_fixes=1)
        ) as eager:
            await until(lambda: processed(eager, 1), what="the retained message processed")
            assert await live_alerts(pool, seeded.subject_id) == []
            fresh = json.dumps(owntracks_location(5000.0, seconds_ago=1)).encode()
            await publish(mosquitto, [("owntracks/otretained/phone", fresh)])
            await until(lambda: processed(eager, 2), what="the fresh message processed")
            assert [a.kind for a in await live_alerts(pool, seeded.subject_id)] == ["zone_exit"]
    finally:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
            await client.publish("owntracks/otretained/phone", b"", qos=1, retain=True)
    async with pool.connection() as conn:
        stored = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=5)
    assert len(stored) == 2


async def test_a_phone_in_owntracks_http_mode_posts_with_its_own_password(
    pool: AsyncConnectionPool[Any], mosquitto: Broker
) -> None:
    seeded = await seed_subject(pool, code="othttp-native")
    async with pool.connection() as conn:
        await store.devices.create_device(
            conn,
            actor="test",
            code="othttp",
            kind=DeviceKind.PHONE,
            subject_id=seeded.subject_id,
            owntracks_topic="carol/phone",
            http_password_hash=hash_password("phone-secret"),
        )
    queue: asyncio.Queue[Message] = asyncio.Queue()
    headers = {"X-Limit-U": "carol", "X-Limit-D": "phone"}
    body = owntracks_location(100.0, seconds_ago=2)
    async with running_pipeline(pool, mosquitto, client_id="ingest-http", queue=queue) as p:
        passwords = PasswordChecker()
        app = create_app(pool, routers=[owntracks_http(queue, p, passwords)], passwords=passwords)
        await until(lambda: _has_devices(p), what="the registry loaded")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ccmon"
        ) as http:
            wrong = await http.post(
                "/api/v1/owntracks", json=body, headers=headers, auth=("carol", "guess")
            )
            other = await http.post(
                "/api/v1/owntracks",
                json=body,
                headers={**headers, "X-Limit-D": "tablet"},
                auth=("carol", "phone-secret"),
            )
            ok = await http.post(
                "/api/v1/owntracks", json=body, headers=headers, auth=("carol", "phone-secret")
            )
            # Over the message limit: refused, whether it says its length or streams.
            oversized = b"[" + b" " * LIMITS.max_bytes + b"]"
            declared, streamed = [
                await http.post(
                    "/api/v1/owntracks",
                    content=content,
                    headers=headers,
                    auth=("carol", "phone-secret"),
                )
                for content in (oversized, _chunks(oversized))
            ]
        assert (declared.status_code, streamed.status_code) == (413, 413)
        assert "body over 262,144 bytes" in streamed.text
        assert (wrong.status_code, other.status_code) == (401, 401)
        assert (ok.status_code, ok.json()) == (200, [])
        await until(lambda: processed(p, 1), what="the posted fix processed")
    async with pool.connection() as conn:
        (fix,) = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=5)
    assert (fix.device_code, fix.lon, fix.lat) == ("othttp", body["lon"], body["lat"])


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    """`body` streamed in pieces, without a Content-Length."""
    for i in range(0, len(body), 4096):
        yield body[i : i + 4096]


async def _has_devices(p: Pipeline) -> bool:
    return "carol/phone" in p.owntracks_devices


async def test_status_events_and_an_owntracks_lwt_are_stored_as_device_events(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    api: httpx.AsyncClient,
) -> None:
    seeded = await seed_owntracks_phone(pool, "otlwt")
    await pipeline.refresh()
    when = now_minus(3)
    cut = event_payload(when=when, event="strap_cut", battery=55, seq=3)
    lwt = json.dumps({"_type": "lwt", "tst": str(int(time.time()) - 2)}).encode()
    await publish(
        mosquitto,
        [
            ("cc/v1/devices/otlwt-native/status", cut),
            ("cc/v1/devices/otlwt-native/status", cut),  # a QoS 1 redelivery
            ("owntracks/otlwt/phone", lwt),
        ],
    )
    await until(lambda: _events(pipeline, 2), what="the events stored")
    response = await api.get(f"/api/v1/subjects/{seeded.subject_id}/events")
    assert response.status_code == 200
    assert [(e["device_code"], e["event"], e["battery"]) for e in response.json()] == [
        ("otlwt", "offline", None),
        ("otlwt-native", "strap_cut", 55),
    ]


async def _events(pipeline: Pipeline, n: int) -> bool:
    return pipeline.stats.events >= n and pipeline.stats.received >= 3
