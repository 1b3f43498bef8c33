"""Frequent places in the console: a supervisor registers the subject's residence from their
zones, asks for their places over a window with a purpose (a read on the record), and sees
the night spent at an unknown place marked, in English and Chinese."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from playwright.async_api import Page, expect

import store
from tests.api.test_places import MIDNIGHT, subject_with_a_day
from tests.console.browser import PASSWORD, needs_chromium, shot, sign_in, speak
from tests.helpers import Seeded, officer_of

if TYPE_CHECKING:
    from datetime import datetime

    from psycopg_pool import AsyncConnectionPool

pytestmark = needs_chromium

TO_LOCAL_INPUT = (
    "iso => { const d = new Date(iso);"
    " return new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); }"
)


async def fill_time(page: Page, field: str, when: datetime) -> None:
    await page.fill(field, await page.evaluate(TO_LOCAL_INPUT, when.isoformat()))


async def test_the_places_of_a_subject_with_the_night_away_marked(
    pool: AsyncConnectionPool[Any], server: str, page: Page
) -> None:
    code = f"console-places-{secrets.token_hex(3)}"
    subject = await subject_with_a_day(pool, code)
    seeded = Seeded(subject, 0, code, None)
    supervisor = await officer_of(
        pool, seeded, prefix="console-places-sup", password=PASSWORD, role="supervisor"
    )
    await page.goto(server)
    await sign_in(page, supervisor)
    await page.click("nav button[data-view=subjects]")
    await page.click(f"#subjects-table button:text('subject {code}')")
    await expect(page.locator("#subject h2")).to_have_text(f"subject {code}")
    await expect(page.locator("#residence .name")).to_have_text("none")

    # the residence: the home zone, one of the subject's zones (2 km square about home)
    await page.select_option("#residence select", label=f"zone for {code}")
    await page.click("#residence button.set-residence")
    await expect(page.locator("#residence .name")).to_have_text(f"zone for {code}")

    form = "#places-form"
    await fill_time(page, f"{form} input[name=since]", MIDNIGHT - timedelta(hours=6))
    await fill_time(page, f"{form} input[name=until]", MIDNIGHT + timedelta(hours=36))
    await page.fill(f"{form} input[name=purpose]", "court report: nights")
    await page.click(f"{form} button[type=submit]")
    await expect(page.locator("#places-info")).to_have_text(
        "3 places from 5 stays · unknown places at night: 1"
    )
    rows = page.locator("#places-table tr.place")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("residence")
    await expect(page.locator("#places-table tr.night-unknown")).to_have_count(1)
    await expect(page.locator("#places-table tr.night-unknown")).to_contain_text(
        "unknown place at night"
    )
    await expect(page.locator(".place-label")).to_have_count(3)
    await shot(page, "places")
    await speak(page, "zh")
    await expect(page.locator("#places-table tr.night-unknown")).to_contain_text("夜间不明地点")
    await expect(page.locator("#places-info")).to_have_text(
        "5 次停留，3 个地点 · 夜间不明地点 1 个"
    )
    await shot(page, "places.zh")
    async with pool.connection() as conn:
        reads = await store.audit.location_reads(
            conn, offices=None, subject_id=subject, username=supervisor, limit=10
        )
    assert [(r.what, r.purpose, r.fixes) for r in reads] == [("places", "court report: nights", 5)]
