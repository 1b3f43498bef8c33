"""The whole way of a new subject, with nothing but the page: a supervisor registers the
subject with a phone and a wristband, issues each device its broker password, imports the
district's outline (a GeoJSON file) as the zone to stay in, and issues a 3-month order. The
simulator's devices then connect with those passwords to a Mosquitto that admits only the
accounts ccmon writes (kept in step by ccmon, no terminal); the duty officer sees the zone
exit when the subject drives out of the district, and the subject on the map."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import FilePayload, Page, expect

import store
from domain import AlertKind, AlertState, DeviceKind, add_months
from simulators import City, Kind, Scenario, SimDevice, generate_city, simulate_city
from tests.conftest import INGEST, Broker, connects, syncable_mosquitto
from tests.console.browser import PASSWORD, needs_chromium, shot, sign_in
from tests.helpers import officer_of, seed_subject, until
from tests.running import running_pipeline

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline

pytestmark = needs_chromium

TIME_SCALE = 5.0  # movement five times real time: out of the district within seconds
LEAVES_AFTER_S = 60.0  # simulation seconds: by then the officer is watching


@pytest.fixture
async def secured(pool: AsyncConnectionPool[Any]) -> AsyncIterator[tuple[Broker, Pipeline]]:
    """A Mosquitto that admits only the accounts in ccmon's registry (and ingest), kept in
    step as `ccmon serve` does it, and a pipeline reading it as ingest's account."""
    async with pool.connection() as conn:
        accounts = await store.devices.broker_accounts(conn)
    with syncable_mosquitto(accounts) as (broker, sync):
        syncing = asyncio.create_task(sync.run(pool, every_s=0.2))
        try:
            async with running_pipeline(
                pool, broker, client_id="first-alert", account=INGEST
            ) as pipeline:
                yield broker, pipeline
        finally:
            syncing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await syncing


def _city(tag: str) -> City:
    """One subject of the simulated city who drives out of their district, carrying a phone
    and a wristband (codes of this test's own)."""
    city = generate_city(11, subjects=1, scenarios=(Scenario(Kind.WALK_OUT, LEAVES_AFTER_S),))
    (person,) = city.subjects
    devices = (
        SimDevice(f"ph-{tag}", DeviceKind.PHONE),
        SimDevice(f"wb-{tag}", DeviceKind.WRISTBAND),
    )
    return City(city.districts, [replace(person, name=f"{person.name} {tag}", devices=devices)])


async def test_a_new_subject_is_monitored_from_the_page_to_its_first_alert(
    pool: AsyncConnectionPool[Any],
    secured: tuple[Broker, Pipeline],
    server: str,
    page: Page,
) -> None:
    broker, pipeline = secured
    tag = secrets.token_hex(3)
    seeded = await seed_subject(pool, code=f"first-{tag}")  # the office, and its staff
    supervisor = await officer_of(
        pool, seeded, prefix="first-sup", password=PASSWORD, role="supervisor"
    )
    officer = await officer_of(pool, seeded, prefix="first-duty", password=PASSWORD)
    city = _city(tag)
    (person,) = city.subjects
    district = city.districts[person.district]

    await page.goto(server)
    await sign_in(page, supervisor)
    await page.click("nav button[data-view=subjects]")
    await page.fill("#new-subject-form input[name=name]", person.name)
    await page.select_option("#new-subject-form select[name=level]", "strict")
    await page.click("#new-subject-form button[type=submit]")
    await expect(page.locator("#subject h2")).to_have_text(person.name)

    credentials = {}
    for device in person.devices:
        await page.fill("#new-device-form input[name=code]", device.code)
        await page.select_option("#new-device-form select[name=kind]", device.kind.value)
        await page.click("#new-device-form button[type=submit]")
        await (
            page.locator("#devices-table tr", has_text=device.code)
            .locator("button.credentials")
            .click()
        )
        await expect(page.locator("#device-secret")).to_contain_text(f"Username: {device.code}")
        password = await page.locator("#device-secret code.password").text_content()
        assert password is not None
        credentials[device.code] = (device.code, password)

    order = "#new-order-form"
    starts = datetime.fromisoformat(await page.input_value(f"{order} input[name=starts_at]"))
    await page.fill(f"{order} input[name=ends_at]", f"{add_months(starts, 3):%Y-%m-%dT%H:%M}")
    await page.fill(f"{order} input[name=approved_by]", "县司法局局长")
    await page.fill(f"{order} input[name=reason]", "Art. 29 (1): violated the supervision rules")
    await page.click(f"{order} button[type=submit]")
    await expect(page.locator("#subject-body")).to_contain_text("days left")

    zone = "#new-zone-form"
    outline = {"type": "Feature", "properties": {}, "geometry": district.geojson()}
    await page.fill(f"{zone} input[name=name]", f"{district.name} {tag}")
    geojson: FilePayload = {
        "name": "district.geojson",
        "mimeType": "application/geo+json",
        "buffer": json.dumps(outline).encode(),
    }
    await page.set_input_files(f"{zone} input[name=file]", files=[geojson])
    await expect(page.locator("#zones-table tr", has_text=district.name)).to_contain_text(
        "must stay inside"
    )

    # The broker lets each device in within seconds of its password being issued.
    for account in credentials.values():
        await until(partial(connects, broker, *account), what=f"{account[0]} let in")
    simulation = asyncio.create_task(
        simulate_city(
            city,
            host=broker.host,
            port=broker.port,
            interval_s=0.3,
            time_scale=TIME_SCALE,
            credentials=credentials,
        )
    )
    try:
        await page.click("#sign-out")
        await sign_in(page, officer)
        await expect(page.locator("#subject")).to_be_hidden()  # the last user's page is gone
        exit_alert = page.locator("#alerts li.alert", has_text="Left zone").filter(
            has_text=person.name
        )
        await expect(exit_alert).to_be_visible(timeout=30_000)
        await shot(page, "10-first-alert", chinese_too=True)
        # The alert takes the officer to the subject: close enough to tell phone from band.
        await exit_alert.locator(".meta").click()
        await expect(page.locator("#subject h2")).to_have_text(person.name)
        phone = person.devices[0].code
        await expect(page.locator(f'.device[data-device="{phone}"]')).to_be_visible()
    finally:
        simulation.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await simulation

    async with pool.connection() as conn:
        (subject,) = [
            s
            for s in await store.subjects.list_subjects(conn, offices=None)
            if s.name == person.name
        ]
        raised = await store.alerts.list_alerts(
            conn, states=list(AlertState), subject_id=subject.id, limit=10
        )
        fixes = await store.fixes.last_fixes(conn, subject_id=subject.id, limit=10_000)
        refused = [
            q for q in await store.quarantine.list_quarantine(conn, limit=1000) if tag in q.topic
        ]
    assert [a.kind for a in raised if a.kind == AlertKind.ZONE_EXIT] == [AlertKind.ZONE_EXIT]
    assert {f.device_code for f in fixes} >= {phone}
    assert refused == []
    assert pipeline.stats.received > 0
