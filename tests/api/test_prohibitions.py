"""Prohibition orders over the API against the real PostgreSQL: supervisors register the
protected persons of their office, their phones and the pairs an order keeps apart; a
protected person is invisible to officers and to other offices, their position to everyone
but the office and role a grant names (each look recorded); what cannot be watched as
asked is refused with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import store
from api import create_app, hash_password
from domain import SupervisionLevel
from tests.helpers import bearer, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

V1 = "/api/v1"


@dataclass(frozen=True)
class Offices:
    a: int
    b: int
    subjects_a: tuple[int, int]
    subject_b: int
    suffix: str


@pytest.fixture
async def offices(pool: AsyncConnectionPool[Any]) -> Offices:
    async with pool.connection() as conn:
        bureau = await store.offices.create_office(conn, name="Prohibitions Bureau")
        a = await store.offices.create_office(conn, name="Prohibitions A", parent_id=bureau)
        b = await store.offices.create_office(conn, name="Prohibitions B", parent_id=bureau)
        strict = SupervisionLevel.STRICT
        subjects = [
            await store.subjects.create_subject(conn, office_id=o, name=f"s{i}", level=strict)
            for i, o in enumerate((a, a, b))
        ]
        for name, role, office in (
            ("supervisor-a", "supervisor", a),
            ("supervisor-b", "supervisor", b),
            ("officer-a", "officer", a),
            ("officer-b", "officer", b),
            ("auditor-a", "auditor", a),
            ("admin", "admin", None),
        ):
            await store.users.create_user(
                conn,
                username=f"{name}-{bureau}",
                password_hash=hash_password(f"{name}-pw"),
                role=role,
                office_id=office,
            )
    return Offices(a, b, (subjects[0], subjects[1]), subjects[2], f"-{bureau}")


@pytest.fixture
async def client(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(pool)), base_url="http://ccmon"
    ) as c:
        yield c


async def _as(client: httpx.AsyncClient, offices: Offices, user: str) -> dict[str, str]:
    return bearer(await sign_in(client, user + offices.suffix, f"{user}-pw"))


async def test_a_supervisor_registers_a_protected_person_their_phone_and_the_orders(
    client: httpx.AsyncClient, offices: Offices
) -> None:
    me = await _as(client, offices, "supervisor-a")
    person = await client.post(
        f"{V1}/protected-persons",
        json={"office_id": offices.a, "code": f"P-{offices.a}", "name": "受害人"},
        headers=me,
    )
    assert person.status_code == 201, person.text
    pid = person.json()["id"]
    phone = await client.post(
        f"{V1}/devices",
        json={"code": f"pp-{offices.a}", "kind": "phone", "protected_person_id": pid},
        headers=me,
    )
    assert phone.status_code == 201, phone.text
    assert phone.json()["protected_person_id"] == pid
    assert phone.json()["subject_id"] is None
    assert phone.json()["office_id"] == offices.a

    subject, codefendant = offices.subjects_a
    made = await client.post(
        f"{V1}/subjects/{subject}/prohibitions",
        json={"protected_person_id": pid, "distance_m": 500},
        headers=me,
    )
    assert made.status_code == 201, made.text
    assert made.json()["protected_person_code"] == f"P-{offices.a}"
    assert made.json()["warn_s"] == 300  # the default: warned 5 min ahead
    contact = await client.post(
        f"{V1}/subjects/{subject}/prohibitions",
        json={"other_subject_id": codefendant, "distance_m": 100, "for_s": 300},
        headers=me,
    )
    assert contact.status_code == 201, contact.text
    # Listed from either side of the pair.
    theirs = await client.get(f"{V1}/subjects/{codefendant}/prohibitions", headers=me)
    assert [r["id"] for r in theirs.json()] == [contact.json()["id"]]
    # The same pair twice (either way round) is one order.
    again = await client.post(
        f"{V1}/subjects/{codefendant}/prohibitions",
        json={"other_subject_id": subject, "distance_m": 200},
        headers=me,
    )
    assert again.status_code == 409
    retired = await client.post(f"{V1}/prohibitions/{contact.json()['id']}/retire", headers=me)
    assert retired.status_code == 200
    assert retired.json()["active"] is False
    twice = await client.post(f"{V1}/prohibitions/{contact.json()['id']}/retire", headers=me)
    assert twice.status_code == 409


async def test_what_cannot_be_watched_as_asked_is_refused_with_the_reason(
    client: httpx.AsyncClient, offices: Offices
) -> None:
    me = await _as(client, offices, "supervisor-a")
    subject, _ = offices.subjects_a
    pid = (
        await client.post(
            f"{V1}/protected-persons",
            json={"office_id": offices.a, "code": f"Q-{offices.a}", "name": "证人"},
            headers=me,
        )
    ).json()["id"]
    for body, words in (
        ({"distance_m": 500}, "exactly one of"),
        ({"protected_person_id": pid, "other_subject_id": subject, "distance_m": 500}, "exactly"),
        ({"protected_person_id": pid, "distance_m": 5}, "distance_m"),
        ({"other_subject_id": subject, "distance_m": 100}, "themselves"),
    ):
        refused = await client.post(f"{V1}/subjects/{subject}/prohibitions", json=body, headers=me)
        assert refused.status_code == 422, body
        assert words in refused.json()["detail"], refused.json()
    texting = await client.post(
        f"{V1}/protected-persons",
        json={"office_id": offices.a, "code": f"R-{offices.a}", "name": "x", "sms_opt_in": True},
        headers=me,
    )
    assert texting.status_code == 422
    assert "phone" in texting.json()["detail"]
    # A protected person's phone is theirs alone: never a subject's, never a wristband.
    for body in (
        {
            "code": f"x1-{offices.a}",
            "kind": "phone",
            "protected_person_id": pid,
            "subject_id": subject,
        },
        {"code": f"x2-{offices.a}", "kind": "wristband", "protected_person_id": pid},
    ):
        refused = await client.post(f"{V1}/devices", json=body, headers=me)
        assert refused.status_code == 422, body
    phone = await client.post(
        f"{V1}/devices",
        json={"code": f"x3-{offices.a}", "kind": "phone", "protected_person_id": pid},
        headers=me,
    )
    bound = await client.patch(
        f"{V1}/devices/{phone.json()['id']}", json={"subject_id": subject}, headers=me
    )
    assert bound.status_code == 422
    assert "never bound to a subject" in bound.json()["detail"]


async def test_a_protected_person_is_invisible_to_officers_and_other_offices(
    client: httpx.AsyncClient, offices: Offices
) -> None:
    a = await _as(client, offices, "supervisor-a")
    pid = (
        await client.post(
            f"{V1}/protected-persons",
            json={"office_id": offices.a, "code": f"S-{offices.a}", "name": "受害人"},
            headers=a,
        )
    ).json()["id"]
    b = await _as(client, offices, "supervisor-b")
    assert (await client.get(f"{V1}/protected-persons", headers=b)).json() == []
    assert (await client.get(f"{V1}/protected-persons/{pid}", headers=b)).status_code == 404
    # Office B cannot keep its subject from office A's protected person (nor learn of them),
    # nor register a phone for them.
    refused = await client.post(
        f"{V1}/subjects/{offices.subject_b}/prohibitions",
        json={"protected_person_id": pid, "distance_m": 500},
        headers=b,
    )
    assert refused.status_code == 404
    phone = await client.post(
        f"{V1}/devices",
        json={"code": f"pb-{offices.b}", "kind": "phone", "protected_person_id": pid},
        headers=b,
    )
    assert phone.status_code == 422
    # An officer works alerts, which name the protected person by code: who they are is
    # for supervisors.
    officer = await _as(client, offices, "officer-a")
    assert (await client.get(f"{V1}/protected-persons", headers=officer)).status_code == 403
    assert (await client.get(f"{V1}/protected-persons/{pid}", headers=officer)).status_code == 403


# Where the protected person was: a position no answer may carry unless it is theirs to see.
LON, LAT = 104.0612345, 30.6123456


async def _every_get(
    client: httpx.AsyncClient, headers: dict[str, str], ids: dict[str, int]
) -> dict[str, str]:
    """The answer of every GET route of the API (path ids filled from `ids`, 1 otherwise;
    a purpose and a wide range given to whichever takes them), by path."""
    spec = (await client.get("/openapi.json")).json()
    answers = {}
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        filled = path
        for name in [p["name"] for p in operations["get"].get("parameters", [])]:
            filled = filled.replace("{" + name + "}", str(ids.get(name, 1)))
        response = await client.get(
            filled,
            params={
                "purpose": "scoping sweep",
                "since": "2020-01-01T00:00:00Z",
                "until": "2099-01-01T00:00:00Z",
                "limit": 1000,
            },
            headers=headers,
        )
        answers[path] = response.text
    return answers


async def test_a_protected_persons_position_is_seen_only_by_the_office_and_role_granted(
    client: httpx.AsyncClient, offices: Offices, pool: AsyncConnectionPool[Any]
) -> None:
    supervisor = await _as(client, offices, "supervisor-a")
    pid = (
        await client.post(
            f"{V1}/protected-persons",
            json={"office_id": offices.a, "code": f"V-{offices.a}", "name": "受害人"},
            headers=supervisor,
        )
    ).json()["id"]
    phone = (
        await client.post(
            f"{V1}/devices",
            json={"code": f"pv-{offices.a}", "kind": "phone", "protected_person_id": pid},
            headers=supervisor,
        )
    ).json()["id"]
    subject = offices.subjects_a[0]
    await client.post(
        f"{V1}/subjects/{subject}/prohibitions",
        json={"protected_person_id": pid, "distance_m": 500},
        headers=supervisor,
    )
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO protected_fixes (time, protected_person_id, device_id, lon, lat,"
            " accuracy, source, received_at) VALUES (now() - interval '1 minute', %s, %s,"
            " %s, %s, 8, 'gnss', now()), (now() - interval '2 hours', %s, %s, 104.0, 30.6,"
            " 20, 'wifi', now())",
            (pid, phone, LON, LAT, pid, phone),
        )
    ids = {"person_id": pid, "subject_id": subject, "device_id": phone}
    positions = f"{V1}/protected-persons/{pid}/positions"
    why = {"purpose": "protected_person_proximity alert: where is the victim"}

    def shows_position(text: str) -> bool:
        return f"{LON}"[:9] in text or f"{LAT}"[:8] in text

    # No grant yet: nobody sees it, not even the supervisor who registered them.
    users = {
        name: await _as(client, offices, name)
        for name in ("officer-a", "officer-b", "supervisor-b", "auditor-a", "admin")
    }
    users["supervisor-a"] = supervisor
    for name, headers in users.items():
        refused = await client.get(positions, params=why, headers=headers)
        assert refused.status_code == 404, (name, refused.text)
        assert "whose position you may see" in refused.json()["detail"]

    # A grant to another office is for that office's supervisors (not the caller's to give:
    # office B is neither theirs nor above the protected person's); to their own officers is.
    sideways = await client.post(
        f"{V1}/protected-persons/{pid}/grants",
        json={"office_id": offices.b, "role": "officer"},
        headers=supervisor,
    )
    assert sideways.status_code == 403, sideways.text
    for role in ("admin", "auditor"):
        never = await client.post(
            f"{V1}/protected-persons/{pid}/grants",
            json={"office_id": offices.a, "role": role},
            headers=supervisor,
        )
        assert never.status_code == 422, role
    grant = await client.post(
        f"{V1}/protected-persons/{pid}/grants",
        json={"office_id": offices.a, "role": "officer"},
        headers=supervisor,
    )
    assert grant.status_code == 201, grant.text
    assert grant.json()["granted_by"] == f"supervisor-a{offices.suffix}"

    officer = users["officer-a"]
    readable = await client.get(f"{V1}/protected-persons/readable", headers=officer)
    assert readable.json() == [{"id": pid, "office_id": offices.a, "code": f"V-{offices.a}"}]
    latest = await client.get(positions, params=why, headers=officer)
    assert latest.status_code == 200, latest.text
    assert [(p["lon"], p["lat"]) for p in latest.json()["positions"]] == [(LON, LAT)]
    both = await client.get(positions, params={**why, "limit": 10}, headers=officer)
    assert [p["source"] for p in both.json()["positions"]] == ["gnss", "wifi"]
    unexplained = await client.get(positions, headers=officer)
    assert unexplained.status_code == 422

    # Everyone else, through every GET the API has: never the position, nor the live feed's
    # source (the protected phone's fixes are never among the subjects' positions).
    for name, headers in users.items():
        if name == "officer-a":
            continue
        assert (await client.get(positions, params=why, headers=headers)).status_code == 404
        leaks = [
            path
            for path, text in (await _every_get(client, headers, ids)).items()
            if shows_position(text)
        ]
        assert leaks == [], (name, leaks)
        readable = await client.get(f"{V1}/protected-persons/readable", headers=headers)
        assert readable.json() == [], name
    # The granted officer sees it only where they asked for it with a purpose.
    leaks = [
        path
        for path, text in (await _every_get(client, officer, ids)).items()
        if shows_position(text)
    ]
    assert leaks == ["/api/v1/protected-persons/{person_id}/positions"]

    # Each look is on the record, for the auditors of the protected person's office.
    auditor = users["auditor-a"]
    reads = await client.get(
        f"{V1}/audit/location-reads", params={"protected_person_id": pid}, headers=auditor
    )
    assert [(r["username"], r["what"], r["fixes"]) for r in reads.json()] == [
        (f"officer-a{offices.suffix}", "trail", 2),  # the sweep's
        (f"officer-a{offices.suffix}", "trail", 2),
        (f"officer-a{offices.suffix}", "latest", 1),
    ]
    assert reads.json()[-1]["purpose"] == why["purpose"]

    # Revoked: at once, the officer sees it no more.
    revoked = await client.post(
        f"{V1}/protected-persons/{pid}/grants/{grant.json()['id']}/revoke", headers=supervisor
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_by"] == f"supervisor-a{offices.suffix}"
    assert (await client.get(positions, params=why, headers=officer)).status_code == 404
    history = await client.get(f"{V1}/protected-persons/{pid}/grants", headers=supervisor)
    assert [g["revoked_at"] is not None for g in history.json()] == [True]
