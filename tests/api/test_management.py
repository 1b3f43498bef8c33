"""Managing the registry through the API against the real PostgreSQL: an admin sets up
offices and users; a supervisor registers a subject, devices, zones (GeoJSON, WGS-84 or
GCJ-02), assignments with schedules, an order and its extension; an officer requests a leave
and the supervisor decides it; every change is in the change log; another office's
supervisor sees and changes none of it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from argon2 import PasswordHasher

import store
from api import create_app, hash_password
from ccmon.mosquitto import new_device_password
from domain import ZoneRole
from domain.crs import wgs84_to_gcj02
from tests.helpers import bearer, sign_in, square

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

V1 = "/api/v1"
ADMIN_PW = "admin-password-for-tests"


@pytest.fixture
async def client(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(pool, device_passwords=new_device_password)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ccmon"
    ) as c:
        yield c


@pytest.fixture
async def admin(pool: AsyncConnectionPool[Any], client: httpx.AsyncClient) -> dict[str, str]:
    name = f"admin-{secrets.token_hex(4)}"
    async with pool.connection() as conn:
        await store.users.create_user(
            conn, username=name, password_hash=hash_password(ADMIN_PW), role="admin"
        )
    return bearer(await sign_in(client, name, ADMIN_PW))


async def _ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json() if response.content else None


async def _county(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    """A bureau with offices A and B; a supervisor and officer in A, a supervisor in B, an
    auditor of the bureau. Returns their headers and the office ids."""
    tag = secrets.token_hex(3)
    bureau = await _ok(
        await client.post(f"{V1}/offices", json={"name": f"Bureau {tag}"}, headers=admin), 201
    )
    offices = {}
    for name in "ab":
        body = {"name": f"Office {name} {tag}", "parent_id": bureau["id"]}
        offices[name] = (
            await _ok(await client.post(f"{V1}/offices", json=body, headers=admin), 201)
        )["id"]
    people: dict[str, Any] = {
        "bureau": bureau["id"],
        **{f"office_{k}": v for k, v in offices.items()},
    }
    for who, role, office in (
        ("sup-a", "supervisor", offices["a"]),
        ("off-a", "officer", offices["a"]),
        ("sup-b", "supervisor", offices["b"]),
        ("aud", "auditor", bureau["id"]),
    ):
        body = {"username": f"{who}-{tag}", "role": role, "office_id": office}
        created = await _ok(await client.post(f"{V1}/users", json=body, headers=admin), 201)
        assert created["password"], "a generated password, shown once"
        people[who] = bearer(await sign_in(client, body["username"], created["password"]))
        people[f"{who}-name"] = body["username"]
    return people


async def test_a_supervisor_registers_a_subject_end_to_end(
    client: httpx.AsyncClient, admin: dict[str, str], pool: AsyncConnectionPool[Any]
) -> None:
    c = await _county(client, admin)
    sup, off, other = c["sup-a"], c["off-a"], c["sup-b"]
    subject = await _ok(
        await client.post(
            f"{V1}/subjects",
            json={"office_id": c["office_a"], "name": "张三", "level": "strict"},
            headers=sup,
        ),
        201,
    )
    sid = subject["id"]
    assert subject["office_id"] == c["office_a"]
    # Devices: a phone bound now, a wristband bound later; a broker account for the phone.
    code = f"ph-{secrets.token_hex(4)}"
    phone = await _ok(
        await client.post(
            f"{V1}/devices", json={"code": code, "kind": "phone", "subject_id": sid}, headers=sup
        ),
        201,
    )
    assert (phone["office_id"], phone["subject_id"], phone["has_mqtt_account"]) == (
        c["office_a"],
        sid,
        False,
    )
    band = await _ok(
        await client.post(
            f"{V1}/devices",
            json={
                "code": f"wb-{secrets.token_hex(4)}",
                "kind": "wristband",
                "office_id": c["office_a"],
            },
            headers=sup,
        ),
        201,
    )
    assert band["subject_id"] is None
    bound = await _ok(
        await client.patch(f"{V1}/devices/{band['id']}", json={"subject_id": sid}, headers=sup)
    )
    assert bound["subject_id"] == sid
    again = await client.post(
        f"{V1}/devices",
        json={"code": code, "kind": "phone", "office_id": c["office_a"]},
        headers=sup,
    )
    assert again.status_code == 409
    credentials = await _ok(
        await client.post(f"{V1}/devices/{phone['id']}/mqtt-credentials", headers=sup), 201
    )
    assert credentials["username"] == code
    async with pool.connection() as conn:
        accounts = {a.username: a for a in await store.devices.broker_accounts(conn)}
    assert accounts[code].password_hash.startswith("$7$")
    # A home zone drawn on a GCJ-02 map, stored in WGS-84, read back in either.
    home = square(150)
    ring = home["coordinates"][0]
    lon, lat = wgs84_to_gcj02([p[0] for p in ring], [p[1] for p in ring])
    drawn = {"type": "Polygon", "coordinates": [[[x, y] for x, y in zip(lon, lat, strict=True)]]}
    zone = await _ok(
        await client.post(
            f"{V1}/zones",
            params={"crs": "gcj02"},
            json={
                "type": "Feature",
                "geometry": drawn,
                "properties": {"name": "home", "office_id": c["office_a"]},
            },
            headers=sup,
        ),
        201,
    )
    stored = (await _ok(await client.get(f"{V1}/zones/{zone['id']}", headers=sup)))["geometry"]
    for (x, y), (ex, ey) in zip(stored["coordinates"][0], ring, strict=True):
        # the GCJ-02 inverse: well under a metre
        assert abs(x - ex) < 1e-5
        assert abs(y - ey) < 1e-5
    collection = await _ok(await client.get(f"{V1}/zones", headers=sup))
    assert collection["type"] == "FeatureCollection"
    assert zone["id"] in [f["id"] for f in collection["features"]]
    # A curfew: home from 22:00 to 06:00 every day.
    curfew = {
        "timezone": "Asia/Shanghai",
        "weekly": [{"days": list(range(7)), "start": "22:00", "end": "06:00"}],
    }
    assignment = await _ok(
        await client.post(
            f"{V1}/subjects/{sid}/assignments",
            json={"zone_id": zone["id"], "role": "inclusion", "schedule": curfew},
            headers=sup,
        ),
        201,
    )
    assert assignment["schedule"]["weekly"] == [
        {"days": list(range(7)), "start": "22:00", "end": "06:00"}
    ]
    async with pool.connection() as conn:
        loaded = [a for a in await store.assignments.load_assignments(conn) if a.subject_id == sid]
    assert [(a.zone_id, a.role) for a in loaded] == [(zone["id"], ZoneRole.INCLUSION)]
    assert loaded[0].schedule.weekly[0].start.hour == 22
    # An order and its extension; a period over 3 months is refused with the reason.
    start = datetime.now(UTC) - timedelta(days=1)
    order_body = {
        "approved_by": "county bureau head",
        "reason": "Art. 29 (1)",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=80)).isoformat(),
    }
    order = await _ok(
        await client.post(f"{V1}/subjects/{sid}/orders", json=order_body, headers=sup), 201
    )
    too_long = {**order_body, "ends_at": (start + timedelta(days=120)).isoformat()}
    refused = await client.post(f"{V1}/subjects/{sid}/orders", json=too_long, headers=sup)
    assert refused.status_code == 422
    assert "at most 3 months" in refused.json()["detail"]
    extended = await _ok(
        await client.post(
            f"{V1}/orders/{order['id']}/extensions",
            json={
                "approved_by": "head",
                "reason": "review",
                "ends_at": (start + timedelta(days=150)).isoformat(),
            },
            headers=sup,
        ),
        201,
    )
    assert len(extended["extensions"]) == 1
    assert datetime.fromisoformat(extended["ends_at"]) == start + timedelta(days=150)
    # A leave: the officer requests, the supervisor approves; the destination applies.
    city = await _ok(
        await client.post(
            f"{V1}/zones",
            json={
                "type": "Feature",
                "geometry": square(5000, (116.4, 39.9)),
                "properties": {"name": "Beijing", "office_id": c["office_a"]},
            },
            headers=sup,
        ),
        201,
    )
    leave_body = {
        "destination_zone_id": city["id"],
        "starts_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(days=4)).isoformat(),
        "reason": "mother in hospital",
    }
    leave = await _ok(
        await client.post(f"{V1}/subjects/{sid}/leaves", json=leave_body, headers=off), 201
    )
    assert leave["state"] == "requested"
    assert (await client.post(f"{V1}/leaves/{leave['id']}/approve", headers=off)).status_code == 403
    waiting = await _ok(
        await client.get(f"{V1}/leaves", params={"state": "requested"}, headers=sup)
    )
    assert [w["id"] for w in waiting] == [leave["id"]]
    approved = await _ok(
        await client.post(
            f"{V1}/leaves/{leave['id']}/approve", json={"note": "documents seen"}, headers=sup
        )
    )
    assert (approved["state"], approved["decided_by"]) == ("approved", c["sup-a-name"])
    assert (await client.post(f"{V1}/leaves/{leave['id']}/reject", headers=sup)).status_code == 409
    # The subject's page: devices, assignments (the leave's destination too), orders, leave.
    detail = await _ok(await client.get(f"{V1}/subjects/{sid}", headers=off))
    assert {d["code"] for d in detail["devices"]} == {code, band["code"]}
    assert detail["active_order_id"] == order["id"]
    assert {a["zone_id"] for a in detail["assignments"]} == {zone["id"], city["id"]}
    assert [x["id"] for x in detail["leaves"]] == [leave["id"]]
    # Ending the curfew keeps it, ended; the pipelines no longer load it.
    ended = await client.delete(f"{V1}/subjects/{sid}/assignments/{assignment['id']}", headers=sup)
    assert ended.status_code == 204
    history = await _ok(
        await client.get(f"{V1}/subjects/{sid}/assignments", params={"ended": "true"}, headers=sup)
    )
    assert any(a["id"] == assignment["id"] and a["ended_at"] for a in history)
    async with pool.connection() as conn:
        assert assignment["id"] not in {
            a.id for a in await store.assignments.load_assignments(conn)
        }
    # Office B's supervisor: nothing of it exists.
    for path in (
        f"{V1}/subjects/{sid}",
        f"{V1}/subjects/{sid}/assignments",
        f"{V1}/subjects/{sid}/orders",
        f"{V1}/devices/{phone['id']}",
        f"{V1}/zones/{zone['id']}",
    ):
        assert (await client.get(path, headers=other)).status_code == 404, path
    assert (
        await client.patch(f"{V1}/subjects/{sid}", json={"level": "lenient"}, headers=other)
    ).status_code == 404
    assert (
        await client.post(f"{V1}/devices/{phone['id']}/mqtt-credentials", headers=other)
    ).status_code == 404
    assert (
        await client.post(f"{V1}/leaves/{leave['id']}/reject", headers=other)
    ).status_code == 404
    assert (
        await client.post(
            f"{V1}/orders/{order['id']}/extensions",
            json=order_body | {"ends_at": order_body["ends_at"]},
            headers=other,
        )
    ).status_code == 404
    assert sid not in [
        s["id"] for s in await _ok(await client.get(f"{V1}/subjects", headers=other))
    ]
    assert not await _ok(
        await client.get(f"{V1}/devices", params={"subject_id": sid}, headers=other)
    )
    # The auditor sees every change, who made it and what was asked (never a password).
    changes = await _ok(await client.get(f"{V1}/audit/changes", headers=c["aud"]))
    done = {(ch["action"], ch["target"]) for ch in changes}
    assert {
        ("create", "subject"),
        ("create", "device"),
        ("update", "device"),
        ("issue MQTT credentials", "device"),
        ("create", "zone"),
        ("assign", "assignment"),
        ("end", "assignment"),
        ("create", "order"),
        ("extend", "order"),
        ("request", "leave"),
        ("approve", "leave"),
        ("create", "user"),
    } <= done
    approval = next(ch for ch in changes if ch["action"] == "approve")
    assert approval["detail"] == {"note": "documents seen"}
    assert not any("password" in ch["detail"] for ch in changes)
    assert (await client.get(f"{V1}/audit/changes", headers=sup)).status_code == 403


async def test_bad_registry_input_says_what_is_wrong(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    c = await _county(client, admin)
    sup = c["sup-a"]
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[104, 30], [104.1, 30.1], [104.1, 30], [104, 30.1], [104, 30]]],
    }
    for geometry, said in (
        (bowtie, "invalid zone geometry"),
        ({"type": "Point", "coordinates": [104, 30]}, "Polygon or MultiPolygon"),
        ({"type": "Circle", "center": [104, 30], "radius_m": -5}, "radius_m > 0"),
        (
            {"type": "Polygon", "coordinates": [[[500, 30], [501, 30], [501, 31], [500, 30]]]},
            "WGS-84",
        ),
    ):
        feature = {
            "type": "Feature",
            "geometry": geometry,
            "properties": {"name": "x", "office_id": c["office_a"]},
        }
        answer = await client.post(f"{V1}/zones", json=feature, headers=sup)
        assert answer.status_code == 422, geometry
        assert said in answer.json()["detail"]
    shared = {"type": "Feature", "geometry": square(100), "properties": {"name": "county"}}
    assert (await client.post(f"{V1}/zones", json=shared, headers=sup)).status_code == 403
    assert (await client.post(f"{V1}/zones", json=shared, headers=admin)).status_code == 201
    subject = await _ok(
        await client.post(
            f"{V1}/subjects",
            json={"office_id": c["office_a"], "name": "李四", "level": "normal"},
            headers=sup,
        ),
        201,
    )
    zone = await _ok(
        await client.post(
            f"{V1}/zones",
            json=shared | {"properties": {"name": "home", "office_id": c["office_a"]}},
            headers=sup,
        ),
        201,
    )
    for schedule, said in (
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"weekly": [{"days": [7], "start": "22:00", "end": "06:00"}]}, "weekdays"),
        (
            {"once": [{"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}]},
            "ends after",
        ),
    ):
        answer = await client.post(
            f"{V1}/subjects/{subject['id']}/assignments",
            json={"zone_id": zone["id"], "role": "inclusion", "schedule": schedule},
            headers=sup,
        )
        assert answer.status_code == 422, schedule
        assert said in str(answer.json()["detail"])
    body = {"zone_id": zone["id"], "role": "exclusion"}
    assert (
        await client.post(f"{V1}/subjects/{subject['id']}/assignments", json=body, headers=sup)
    ).status_code == 201
    twice = await client.post(f"{V1}/subjects/{subject['id']}/assignments", json=body, headers=sup)
    assert twice.status_code == 409
    assert "already assigned" in twice.json()["detail"]
    # Office B's subject cannot be created by A's supervisor; an officer registers nothing.
    other = {"office_id": c["office_b"], "name": "x", "level": "normal"}
    assert (await client.post(f"{V1}/subjects", json=other, headers=sup)).status_code == 404
    mine = {"office_id": c["office_a"], "name": "x", "level": "normal"}
    assert (await client.post(f"{V1}/subjects", json=mine, headers=c["off-a"])).status_code == 403
    assert (
        await client.post(f"{V1}/users", json={"username": "x", "role": "officer"}, headers=sup)
    ).status_code == 403
    taken = {"username": c["sup-a-name"], "role": "officer"}
    assert (await client.post(f"{V1}/users", json=taken, headers=admin)).status_code == 409


async def test_a_disabled_user_is_out_at_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    c = await _county(client, admin)
    users = await _ok(await client.get(f"{V1}/users", headers=admin))
    (officer,) = [u for u in users if u["username"] == c["off-a-name"]]
    assert (await client.get(f"{V1}/subjects", headers=c["off-a"])).status_code == 200
    disabled = await _ok(
        await client.patch(f"{V1}/users/{officer['id']}", json={"disabled": True}, headers=admin)
    )
    assert disabled["disabled_at"] is not None
    assert (await client.get(f"{V1}/subjects", headers=c["off-a"])).status_code == 401
    # enabled again with a new password, the officer signs in with that one only
    await _ok(
        await client.patch(f"{V1}/users/{officer['id']}", json={"disabled": False}, headers=admin)
    )
    reset = await _ok(await client.post(f"{V1}/users/{officer['id']}/password", headers=admin))
    token = await sign_in(client, c["off-a-name"], reset["password"])
    assert (await client.get(f"{V1}/subjects", headers=bearer(token))).status_code == 200
    me = await _ok(await client.get(f"{V1}/auth/me", headers=admin))
    myself = await client.patch(f"{V1}/users/{me['id']}", json={"disabled": True}, headers=admin)
    assert myself.status_code == 409


async def test_a_devices_owntracks_secrets_are_set_over_the_api_and_never_shown(
    pool: AsyncConnectionPool[Any], admin_api: httpx.AsyncClient
) -> None:
    """The OwnTracks passphrase and the HTTP-mode password are write-only: taken, kept
    (the password as its hash), told only as set or not, absent from the change log."""
    body = {
        "code": "ot-api",
        "kind": "phone",
        "owntracks_topic": "api/phone",
        "owntracks_key": "the app passphrase",
        "http_password": "a long http password",
    }
    created = await _ok(await admin_api.post("/api/v1/devices", json=body), 201)
    assert (created["has_owntracks_key"], created["has_http_password"]) == (True, True)
    assert "the app passphrase" not in str(created)
    again = await admin_api.post("/api/v1/devices", json={**body, "code": "ot-api-2"})
    assert again.status_code == 409  # the topic is taken; by what, it does not say
    assert "api/phone" not in again.text
    patched = await admin_api.patch(
        f"/api/v1/devices/{created['id']}", json={"owntracks_key": "a new passphrase"}
    )
    assert patched.status_code == 200
    async with pool.connection() as conn:
        (device,) = [d for d in await store.devices.load_devices(conn) if d.code == "ot-api"]
        changes = await store.changes.list_changes(conn, offices=None, limit=1000)
    assert device.owntracks_key == "a new passphrase"
    assert device.http_password_hash is not None
    assert PasswordHasher().verify(device.http_password_hash, "a long http password")
    logged = str([c for c in changes if c.target == "device" and c.target_id == created["id"]])
    assert "passphrase" not in logged
    assert "http password" not in logged


async def test_an_admin_is_county_wide(
    pool: AsyncConnectionPool[Any], admin_api: httpx.AsyncClient
) -> None:
    """An admin manages users, tokens, webhooks and quarantine of the whole county, so an
    admin has no office: making one, or moving one into an office, is refused."""
    async with pool.connection() as conn:
        office = await store.offices.create_office(conn, name="an office for admins")
    refused = await admin_api.post(
        "/api/v1/users", json={"username": "office-admin", "role": "admin", "office_id": office}
    )
    assert refused.status_code == 422
    assert "county-wide" in refused.json()["detail"]
    officer = await _ok(
        await admin_api.post(
            "/api/v1/users",
            json={"username": "promoted", "role": "officer", "office_id": office},
        ),
        201,
    )
    promoted = await admin_api.patch(
        f"/api/v1/users/{officer['user']['id']}", json={"role": "admin"}
    )
    assert promoted.status_code == 422
    moved = await admin_api.patch(
        f"/api/v1/users/{officer['user']['id']}", json={"role": "admin", "office_id": None}
    )
    assert moved.status_code == 200
