"""Frequent places over the API against the real PostgreSQL: a subject's days stored as fixes,
the stays job run over them, and the places read back with visits and hours; the night away
from the registered residence marked, never without one; each read on the record; the
residence set, cleared and refused for a zone the caller cannot see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

import store
from alerts.stays import StayPolicy, refresh
from api import hash_password
from domain import FixBatch, FixSource
from tests.helpers import bearer, offset, seed_subject, sign_in, square

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Local midnight after tomorrow: the whole day lies inside the seeded order.
MIDNIGHT = datetime.combine(
    datetime.now(SHANGHAI).date() + timedelta(days=2), datetime.min.time(), SHANGHAI
)
HOME, WORK, FRIEND = (0.0, 0.0), (3000.0, 0.0), (0.0, 2500.0)
# (place, from, to) in hours after MIDNIGHT; a fix a minute, moving straight between them
DAY = [
    (HOME, -2.0, 7.0),
    (WORK, 8.0, 17.0),
    (HOME, 18.0, 22.5),
    (FRIEND, 23.0, 26.0),  # a night out: 23:00-02:00
    (HOME, 26.5, 31.0),
]


def fixes_of_the_day(subject: int, device: int) -> FixBatch:
    rng = np.random.default_rng(3)
    times, east, north = [], [], []
    for (place, start, end), following in zip(DAY, [*DAY[1:], None], strict=True):
        for t in np.arange(start * 3600, end * 3600, 60.0):
            times.append(t)
            east.append(place[0] + rng.normal(0, 8))
            north.append(place[1] + rng.normal(0, 8))
        if following is not None:
            steps = np.arange(end * 3600, following[1] * 3600, 60.0)
            for k, t in enumerate(steps):
                f = (k + 1) / (len(steps) + 1)
                times.append(t)
                east.append(place[0] + f * (following[0][0] - place[0]))
                north.append(place[1] + f * (following[0][1] - place[1]))
    n = len(times)
    lon, lat = offset(np.array(east), np.array(north))  # type: ignore[arg-type]
    time = MIDNIGHT.timestamp() + np.array(times)
    return FixBatch(
        subject=np.full(n, subject, np.int64),
        device=np.full(n, device, np.int64),
        time=time,
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        accuracy=np.full(n, 10.0),
        source=[FixSource.GNSS] * n,
        battery=np.full(n, 80, np.int16),
        seq=np.arange(n, dtype=np.int64),
        received=time + 1.0,
        mock=np.zeros(n, np.bool_),
    )


async def subject_with_a_day(pool: AsyncConnectionPool[Any], code: str) -> int:
    seeded = await seed_subject(pool, code=code)
    async with pool.connection() as conn:
        device = {d.code: d.id for d in await store.devices.load_devices(conn)}[code]
        async with conn.transaction():
            await store.fixes.copy_fixes(conn, fixes_of_the_day(seeded.subject_id, device))
        while await refresh(conn, policy=StayPolicy(), limit=50):
            pass
    return seeded.subject_id


def window() -> dict[str, str]:
    return {
        "purpose": "court report: where he spends his time",
        "since": (MIDNIGHT - timedelta(hours=6)).isoformat(),
        "until": (MIDNIGHT + timedelta(hours=36)).isoformat(),
    }


@pytest.fixture
async def home_zone(pool: AsyncConnectionPool[Any]) -> int:
    return await store_zone(pool)


async def test_the_places_of_a_day_with_the_night_away_from_home_marked(
    api: httpx.AsyncClient,
    admin_api: httpx.AsyncClient,
    pool: AsyncConnectionPool[Any],
    home_zone: int,
) -> None:
    subject = await subject_with_a_day(pool, "places-day")
    patched = await admin_api.patch(
        f"/api/v1/subjects/{subject}", json={"residence_zone_id": home_zone}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["residence_zone_id"] == home_zone
    got = await api.get(f"/api/v1/subjects/{subject}/places", params=window())
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["night_starts_h"], body["night_ends_h"]) == (23.0, 5.0)
    assert [(s["place"], s["current"]) for s in body["stays"]] == [
        (0, False),
        (1, False),
        (0, False),
        (2, False),
        (0, True),  # the fixes end there: it may go on
    ]
    home, work, friend = body["places"]
    assert (home["visits"], home["at_residence"], home["unknown_at_night"]) == (3, True, False)
    assert home["night_visits"] == 2
    assert home["hours"] == pytest.approx(9 + 4.5 + 4.5, abs=0.2)
    assert (work["visits"], work["night_visits"], work["unknown_at_night"]) == (1, 0, False)
    assert work["at_residence"] is False
    assert work["hours"] == pytest.approx(9, abs=0.1)
    assert (friend["night_visits"], friend["at_residence"], friend["unknown_at_night"]) == (
        1,
        False,
        True,
    )
    first = datetime.fromisoformat(friend["first"])
    assert abs(first - (MIDNIGHT + timedelta(hours=23))) <= timedelta(minutes=2)  # arriving
    for place, (east, north) in zip((home, work, friend), (HOME, WORK, FRIEND), strict=True):
        lon, lat = offset(east, north)
        assert (place["lon"], place["lat"]) == (
            pytest.approx(lon, abs=1e-4),
            pytest.approx(lat, abs=1e-4),
        )
    async with pool.connection() as conn:
        (read,) = await store.audit.location_reads(conn, offices=None, subject_id=subject, limit=10)
    assert (read.what, read.purpose, read.fixes) == ("places", window()["purpose"], 5)
    assert read.from_time == MIDNIGHT - timedelta(hours=6)


async def test_without_a_residence_no_place_is_marked(
    api: httpx.AsyncClient,
    admin_api: httpx.AsyncClient,
    pool: AsyncConnectionPool[Any],
    home_zone: int,
) -> None:
    subject = await subject_with_a_day(pool, "places-nowhere")
    path = f"/api/v1/subjects/{subject}"
    assert (await admin_api.patch(path, json={"residence_zone_id": home_zone})).is_success
    cleared = await admin_api.patch(path, json={"residence_zone_id": None})
    assert cleared.json()["residence_zone_id"] is None
    body = (await api.get(f"{path}/places", params=window())).json()
    assert body["residence_zone_id"] is None
    assert [(p["at_residence"], p["unknown_at_night"]) for p in body["places"]] == [
        (None, False)
    ] * 3
    renamed = await admin_api.patch(path, json={"name": "renamed"})
    assert renamed.json()["residence_zone_id"] is None  # what is not given stays


async def test_bad_places_requests_and_residences_say_what_is_wrong(
    api: httpx.AsyncClient, admin_api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    seeded = await seed_subject(pool, code="places-bad")
    path = f"/api/v1/subjects/{seeded.subject_id}"
    backwards = {**window(), "until": window()["since"]}
    for params, detail in (
        ({k: v for k, v in window().items() if k != "purpose"}, "query.purpose: Field required"),
        (backwards, "until must be after since"),
        (
            {**window(), "until": (MIDNIGHT + timedelta(days=500)).isoformat()},
            "at most 400 days at once",
        ),
    ):
        refused = await api.get(f"{path}/places", params=params)
        assert (refused.status_code, refused.json()["detail"]) == (422, detail)
    async with pool.connection() as conn:
        assert (
            await store.audit.location_reads(
                conn, offices=None, subject_id=seeded.subject_id, limit=10
            )
            == []
        )
        other = await store.offices.create_office(conn, name="places: another office")
        theirs = await store.zones.create_zone(
            conn, name="their zone", geometry=square(100), office_id=other
        )
    for zone in (99_999_999, "home"):
        bad = await admin_api.patch(path, json={"residence_zone_id": zone})
        assert bad.status_code == 422, bad.text
    # a supervisor of the subject's office cannot make another office's zone its residence
    async with pool.connection() as conn:
        office = await store.subjects.subject_office(conn, subject_id=seeded.subject_id)
        await store.users.create_user(
            conn,
            username="places-supervisor",
            password_hash=hash_password("places-pw"),
            role="supervisor",
            office_id=office,
        )
    supervisor = bearer(await sign_in(api, "places-supervisor", "places-pw"))
    refused = await api.patch(path, json={"residence_zone_id": theirs}, headers=supervisor)
    assert (refused.status_code, refused.json()["detail"]) == (422, f"no zone {theirs}")
    shared = await store_zone(pool)
    allowed = await api.patch(path, json={"residence_zone_id": shared}, headers=supervisor)
    assert allowed.json()["residence_zone_id"] == shared


async def store_zone(pool: AsyncConnectionPool[Any]) -> int:
    """A zone every office shares, of 300 m around the subjects' home."""
    async with pool.connection() as conn:
        return await store.zones.create_zone(conn, name="residence", geometry=square(150))
