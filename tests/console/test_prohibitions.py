"""Prohibition orders in the console: a supervisor registers a protected person, grants the
office's officers their position and keeps a subject from them; an alert about them shows
the granted officer (only them) the protected person's latest position on the map, a read
on the record."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from playwright.async_api import Page, expect

import alerts
import store
from domain import AlertKind, DeviceKind, Finding, Text
from tests.console.browser import PASSWORD, needs_chromium, shot, sign_in
from tests.helpers import CENTRE, officer_of, seed_subject

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

pytestmark = needs_chromium


async def test_a_protected_person_is_on_the_map_only_for_the_officers_granted(
    pool: AsyncConnectionPool[Any], server: str, page: Page
) -> None:
    seeded = await seed_subject(pool, code=f"console-pp-{secrets.token_hex(3)}")
    supervisor = await officer_of(
        pool, seeded, prefix="console-pp-sup", password=PASSWORD, role="supervisor"
    )
    officer = await officer_of(pool, seeded, prefix="console-pp-officer", password=PASSWORD)
    code = f"P-{secrets.token_hex(2)}"

    await page.goto(server)
    await sign_in(page, supervisor)
    await page.click("nav button[data-view=subjects]")
    form = "#new-protected-form"
    await page.fill(f"{form} input[name=code]", code)
    await page.fill(f"{form} input[name=name]", "受害人 王五")
    await page.fill(f"{form} input[name=phone]", "+8613800000099")
    await page.check(f"{form} input[name=sms_opt_in]")
    await page.click(f"{form} button[type=submit]")
    row = page.locator("#protected-table tr.protected-person", has_text=code)
    await expect(row).to_contain_text("texted when a subject is near")
    await row.locator("select[name=role]").select_option("officer")
    await row.locator(".grant-form button[type=submit]").click()
    await expect(row.locator("ul.grants")).to_contain_text("officer")

    # The subject kept 500 m from them, warned 5 min ahead (the default).
    await page.locator("#subjects-table button.link", has_text=seeded.device_code).click()
    await page.select_option(
        "#new-prohibition-form select[name=other]", label=f"protected person {code}"
    )
    await page.click("#new-prohibition-form button[type=submit]")
    await expect(page.locator("#prohibitions-table")).to_contain_text(
        f"protected person {code}stay 500 m away · warned 5 min ahead"
    )
    await shot(page, "prohibitions-subject", chinese_too=True)

    async with pool.connection() as conn:
        (person,) = [
            p
            for p in await store.prohibitions.list_protected_persons(conn, offices=None)
            if p.code == code
        ]
        (pair,) = await store.prohibitions.list_prohibitions(
            conn, offices=None, subject_id=seeded.subject_id
        )
        phone = await store.devices.create_device(
            conn,
            actor="test",
            code=f"pp-{code}",
            kind=DeviceKind.PHONE,
            subject_id=None,
            protected_person_id=person.id,
        )
        await conn.execute(
            "INSERT INTO protected_fixes (time, protected_person_id, device_id, lon, lat,"
            " accuracy, source, received_at) VALUES (now(), %s, %s, %s, %s, 12, 'gnss', now())",
            (person.id, phone, CENTRE[0] + 0.002, CENTRE[1]),
        )
        await alerts.notices.record_findings(
            conn,
            [
                Finding(
                    AlertKind.PROTECTED_PERSON_PROXIMITY,
                    seeded.subject_id,
                    time.time(),
                    Text("protected_near", {"r": 500.0, "person": code}),
                    lon=CENTRE[0],
                    lat=CENTRE[1],
                    prohibition_id=pair.id,
                )
            ],
            actor="test",
        )

    # The supervisor is not granted: the alert, and no way to the protected person's position.
    await page.click("nav button[data-view=map]")
    near = page.locator("#alerts li.alert", has_text="Near a protected person")
    await expect(near).to_contain_text(f"within 500 m of protected person {code}")
    await expect(near.locator("button.show-protected")).to_have_count(0)
    await page.click("#sign-out")

    await sign_in(page, officer)
    near = page.locator("#alerts li.alert", has_text="Near a protected person")
    await near.locator("button.show-protected").click()
    await expect(page.locator(f'.device.protected[data-protected="{code}"]')).to_be_visible()
    await shot(page, "prohibitions-protected-on-map")

    # On the record before the page was given it.
    async with pool.connection() as conn:
        reads = await store.audit.location_reads(
            conn, offices=None, protected_person_id=person.id, limit=10
        )
    assert [(r.username, r.what, r.fixes) for r in reads] == [(officer, "latest", 1)]
    assert reads[0].purpose.startswith("alert #")
    # Signed out, the position goes with the one who asked for it.
    await page.click("#sign-out")
    await expect(page.locator(".device.protected")).to_have_count(0)
