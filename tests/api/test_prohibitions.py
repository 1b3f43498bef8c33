"""Prohibition orders over the API against the real PostgreSQL: supervisors register the
protected persons of their office, their phones and the pairs an order keeps apart; a
protected person is invisible to officers and to other offices; what cannot be watched as
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
