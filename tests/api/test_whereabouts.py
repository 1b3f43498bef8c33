"""Who was there then, over the API against the real PostgreSQL: the answers agree with a
brute-force oracle over the same stored fixes, whatever the area, window and speed; only the
caller's subjects are answered, each audited once with the purpose and the case."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, mapping

import store
from api import create_app, hash_password
from domain import DeviceKind, FixBatch, SupervisionLevel, Verdict
from tests.geofence.test_evaluate import star
from tests.geofence.test_whereabouts import KX, LAT0, LON0, M_PER_DEG, Fix, oracle
from tests.helpers import bearer, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

V1 = "/api/v1"
T0 = 1_800_000_000.0  # the stored day's start
SPAN_S = 6 * 3600.0
NAMES = {
    "was_there": Verdict.WAS_THERE,
    "may_have_been_there": Verdict.MAY_HAVE_BEEN_THERE,
    "was_elsewhere": Verdict.WAS_ELSEWHERE,
}


@dataclass(frozen=True)
class County:
    fixes: list[Fix]  # of office A's subjects
    subjects_a: list[int]
    subjects_b: list[int]
    suffix: str


def _day(subject: int, rng: np.random.Generator) -> list[Fix]:
    """Six hours of one subject: reporting every 1, 5 or 15 minutes, walking or driving
    about a few km around the area's centre, with a silence now and then and accuracies from
    GNSS to the cell."""
    interval = float(rng.choice([60.0, 300.0, 900.0]))
    speed = float(rng.choice([0.0, 1.4, 8.0]))
    x, y = rng.uniform(-4000, 4000, 2)
    heading = rng.uniform(0, 2 * math.pi)
    out, t = [], T0 + rng.uniform(0, interval)
    while t < T0 + SPAN_S:
        if rng.random() < 0.03:
            t += rng.uniform(1800, 5400)  # a silence
            continue
        heading += rng.normal(0, 0.6)
        x = float(np.clip(x + speed * interval * math.cos(heading), -5000, 5000))
        y = float(np.clip(y + speed * interval * math.sin(heading), -5000, 5000))
        accuracy = float(
            rng.choice([5.0, 15.0, 40.0, 300.0, 1200.0], p=[0.4, 0.3, 0.2, 0.07, 0.03])
        )
        out.append(Fix(subject, round(t), x, y, accuracy))
        t += interval * rng.uniform(0.9, 1.1)
    return out


async def _store(conn: Any, fixes: list[Fix], device: dict[int, int]) -> None:
    batch = FixBatch.measured(
        np.array([f.subject for f in fixes], dtype=np.int64),
        np.array([f.time for f in fixes]),
        np.array([LON0 + f.x / KX for f in fixes]),
        np.array([LAT0 + f.y / M_PER_DEG for f in fixes]),
        np.array([f.accuracy for f in fixes]),
        device=np.array([device[f.subject] for f in fixes], dtype=np.int64),
    )
    await store.fixes.copy_fixes(conn, batch)


@pytest.fixture(scope="module")
async def county(pool: AsyncConnectionPool[Any]) -> County:
    rng = np.random.default_rng(23)
    async with pool.connection() as conn:
        bureau = await store.offices.create_office(conn, name="Whereabouts Bureau")
        a = await store.offices.create_office(conn, name="Whereabouts A", parent_id=bureau)
        b = await store.offices.create_office(conn, name="Whereabouts B", parent_id=bureau)
        ids: dict[int, list[int]] = {a: [], b: []}
        device = {}
        for i in range(36):
            office = a if i < 30 else b
            s = await store.subjects.create_subject(
                conn, office_id=office, name=f"w{i}", level=SupervisionLevel.NORMAL
            )
            ids[office].append(s)
            device[s] = await store.devices.create_device(
                conn,
                actor="test",
                code=f"w-phone-{bureau}-{i}",
                kind=DeviceKind.PHONE,
                subject_id=s,
            )
        fixes = [f for s in ids[a] for f in _day(s, rng)]
        # office B's subjects stand in the middle of every area all day
        others = [Fix(s, T0 + 60 * k, 0.0, 0.0, 5.0) for s in ids[b] for k in range(360)]
        await _store(conn, fixes + others, device)
        for name, role, office in (
            ("officer-a", "officer", a),
            ("officer-b", "officer", b),
            ("auditor", "auditor", a),
        ):
            await store.users.create_user(
                conn,
                username=f"{name}-{bureau}",
                password_hash=hash_password("pw-whereabouts"),
                role=role,
                office_id=office,
            )
    return County(fixes, ids[a], ids[b], f"-{bureau}")


@pytest.fixture(scope="module")
async def client(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(pool)), base_url="http://ccmon"
    ) as c:
        yield c


@pytest.fixture(scope="module")
async def officer_a(client: httpx.AsyncClient, county: County) -> dict[str, str]:
    return bearer(await sign_in(client, "officer-a" + county.suffix, "pw-whereabouts"))


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


@st.composite
def questions(draw: st.DrawFn) -> tuple[dict[str, Any], Polygon, float, float, float]:
    """An area (circle or star, 50-1,500 m, somewhere among the subjects), a window of 5
    minutes to 2 hours in the stored day, and a speed."""
    cx, cy = draw(st.floats(-2000, 2000)), draw(st.floats(-2000, 2000))
    lon, lat = LON0 + cx / KX, LAT0 + cy / M_PER_DEG
    size = draw(st.floats(50, 1500))
    if draw(st.booleans()):
        geometry: dict[str, Any] = {"type": "Circle", "center": [lon, lat], "radius_m": size}
        plane = Point(cx, cy).buffer(size, quad_segs=256)
    else:
        radii = draw(st.lists(st.floats(0.4, 1.0), min_size=3, max_size=10))
        geom = star(lon, lat, size, radii, draw(st.floats(0, 2 * math.pi)))
        assume(geom.is_valid)
        geometry = mapping(geom)
        plane = Polygon(
            [((x - LON0) * KX, (y - LAT0) * M_PER_DEG) for x, y in geom.exterior.coords]
        )
    since = T0 + draw(st.integers(-1800, int(SPAN_S)))
    length = draw(st.integers(300, 7200))
    return geometry, plane, float(since), float(since + length), draw(st.floats(1, 40))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(question=questions())
async def test_the_answers_agree_with_a_brute_force_oracle_over_the_stored_fixes(
    client: httpx.AsyncClient,
    county: County,
    officer_a: dict[str, str],
    question: tuple[dict[str, Any], Polygon, float, float, float],
) -> None:
    geometry, plane, since, until, speed = question
    response = await client.post(
        f"{V1}/whereabouts",
        headers=officer_a,
        json={
            "area": geometry,
            "since": _iso(since),
            "until": _iso(until),
            "max_speed_mps": speed,
            "purpose": "property test against the oracle",
            "case_ref": "T-1",
        },
    )
    assert response.status_code == 200, response.text
    got = {s["subject_id"]: s for s in response.json()["subjects"]}
    assert sorted(got) == sorted(county.subjects_a)
    near = oracle(plane, county.fixes, speed, 0.003, (since, until))
    far = oracle(plane, county.fixes, speed, -0.003, (since, until))
    for subject in county.subjects_a:
        answer = got[subject]
        if subject not in near:
            assert (answer["verdict"], answer["fixes"]) == ("no_data", [])
            continue
        if near[subject] != far[subject]:
            continue  # within a rounding of an edge
        assert NAMES[answer["verdict"]] == near[subject], (subject, answer)
        in_window = sum(
            1 for f in county.fixes if f.subject == subject and since <= f.time <= until
        )
        assert answer["fixes_in_window"] == in_window
        assert answer["fixes"], answer


async def test_only_the_callers_subjects_are_answered_each_on_the_record_once(
    client: httpx.AsyncClient, county: County, pool: AsyncConnectionPool[Any]
) -> None:
    officer_b = bearer(await sign_in(client, "officer-b" + county.suffix, "pw-whereabouts"))
    body = {
        "area": {"type": "Circle", "center": [LON0, LAT0], "radius_m": 200},
        "since": _iso(T0 + 3600),
        "until": _iso(T0 + 7200),
        "purpose": "a burglary at the station, night of 3 May",
        "case_ref": "川公刑2026-0517",
    }
    response = await client.post(f"{V1}/whereabouts", headers=officer_b, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert sorted(s["subject_id"] for s in answer["subjects"]) == sorted(county.subjects_b)
    assert {s["verdict"] for s in answer["subjects"]} == {"was_there"}
    assert answer["counts"]["was_there"] == len(county.subjects_b)
    first = answer["subjects"][0]["fixes"][0]
    assert first["distance_m"] == 0.0
    assert first["device_code"].startswith("w-phone-")
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT subject_id, purpose, case_ref, from_time, to_time, fixes FROM location_reads"
            " WHERE what = 'whereabouts' AND case_ref = %s AND username = %s",
            (body["case_ref"], "officer-b" + county.suffix),
        )
        rows = await cur.fetchall()
    assert sorted(r[0] for r in rows) == sorted(county.subjects_b)
    assert {(r[1], r[2], r[5]) for r in rows} == {(body["purpose"], body["case_ref"], 1)}
    assert {r[3].timestamp() for r in rows} == {T0 + 3600}
    assert {r[4].timestamp() for r in rows} == {T0 + 7200}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"area": {"type": "Circle", "center": [LON0, LAT0], "radius_m": 0}}, "radius_m"),
        ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}}, "area"),
        ({"area": {"type": "Circle", "center": ["x", 30], "radius_m": 9}}, "center"),
        ({"area": {"type": "Circle", "center": [LON0, LAT0], "radius_m": 1e12}}, "radius_m"),
        ({"until": _iso(T0 - 60)}, "until must be after since"),
        ({"until": _iso(T0 + 8 * 86_400)}, "at most 7 days"),
        ({"case_ref": ""}, "case_ref"),
        ({"purpose": "x"}, "purpose"),
        ({"max_speed_mps": 0}, "max_speed_mps"),
    ],
)
async def test_a_question_that_cannot_be_answered_is_refused_with_the_reason(
    client: httpx.AsyncClient,
    county: County,
    officer_a: dict[str, str],
    change: dict[str, Any],
    says: str,
) -> None:
    body = {
        "area": {"type": "Circle", "center": [LON0, LAT0], "radius_m": 200},
        "since": _iso(T0),
        "until": _iso(T0 + 3600),
        "purpose": "checking the refusals",
        "case_ref": "T-2",
    } | change
    response = await client.post(f"{V1}/whereabouts", headers=officer_a, json=body)
    assert response.status_code == 422, response.text
    assert says in response.text


async def test_an_auditor_reads_the_record_not_the_positions(
    client: httpx.AsyncClient, county: County
) -> None:
    auditor = bearer(await sign_in(client, "auditor" + county.suffix, "pw-whereabouts"))
    body = {
        "area": {"type": "Circle", "center": [LON0, LAT0], "radius_m": 200},
        "since": _iso(T0),
        "until": _iso(T0 + 3600),
        "purpose": "an auditor trying",
        "case_ref": "T-3",
    }
    response = await client.post(f"{V1}/whereabouts", headers=auditor, json=body)
    assert response.status_code == 403
