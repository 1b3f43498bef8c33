"""A supervisor's console: a subject taken from nothing to monitored (devices, broker
password, order, zones drawn, shaped and edited on the map) and a leave an officer requests
and the supervisor approves, each refusal shown with the API's reason."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from playwright.async_api import FilePayload, Locator, Page, expect

import store
from domain import add_months
from tests.console.browser import PASSWORD, needs_chromium, shot, sign_in
from tests.helpers import officer_of, seed_subject, square, until

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

pytestmark = needs_chromium


async def test_a_supervisor_takes_a_subject_from_nothing_to_monitored(
    pool: AsyncConnectionPool[Any], server: str, page: Page, refusals: list[str]
) -> None:
    """With nothing but the page: a new subject, its wristband registered and bound, the
    band's broker password shown once, a monitoring order (a 4-month one refused with the
    API's reason, then 3 months), a home zone and a curfew drawn on the map (a zone that
    crosses itself refused with the API's reason); each step is in the change log."""
    seeded = await seed_subject(pool, code=f"console-sup-{secrets.token_hex(3)}")
    supervisor = await officer_of(
        pool, seeded, prefix="console-sup", password=PASSWORD, role="supervisor"
    )
    await page.goto(server)
    await sign_in(page, supervisor)
    await expect(page.locator("nav button:visible")).to_have_text(
        ["Map", "Daily report", "Subjects"]
    )
    await page.click("nav button[data-view=subjects]")
    name = f"张三 {secrets.token_hex(2)}"
    await page.fill("#new-subject-form input[name=name]", name)
    await page.select_option("#new-subject-form select[name=level]", "strict")
    await page.click("#new-subject-form button[type=submit]")
    await expect(page.locator("#subject h2")).to_have_text(name)
    await expect(page.locator("#subject-body")).to_contain_text("none in force")

    band = f"wb-{secrets.token_hex(3)}"
    await page.fill("#new-device-form input[name=code]", band)
    await page.select_option("#new-device-form select[name=kind]", "wristband")
    await page.click("#new-device-form button[type=submit]")
    row = page.locator("#devices-table tr", has_text=band)
    await expect(row).to_be_visible()
    await row.locator("button.credentials").click()
    await expect(page.locator("#device-secret")).to_contain_text(f"Username: {band}")
    password = await page.locator("#device-secret code.password").text_content()
    assert password is not None
    assert len(password) >= 16

    order = "#new-order-form"
    starts = datetime.fromisoformat(await page.input_value(f"{order} input[name=starts_at]"))
    await page.fill(f"{order} input[name=ends_at]", f"{add_months(starts, 4):%Y-%m-%dT%H:%M}")
    await page.fill(f"{order} input[name=approved_by]", "县司法局局长")
    await page.fill(f"{order} input[name=reason]", "Art. 29 (1): violated the supervision rules")
    refusals.append("/orders")
    await page.click(f"{order} button[type=submit]")
    await expect(page.locator("#subject-manage .error")).to_contain_text(
        "a period runs at most 3 months"
    )
    await page.fill(f"{order} input[name=ends_at]", f"{add_months(starts, 3):%Y-%m-%dT%H:%M}")
    await page.click(f"{order} button[type=submit]")
    await expect(page.locator("#subject-body")).to_contain_text("days left")

    # Zones drawn on the map: a home polygon kept in at all times; a shape that crosses
    # itself refused with the API's reason; a curfew circle, every day 22:00-06:00.
    frame = await page.locator("#map").bounding_box()
    assert frame is not None

    def at(x: float, y: float) -> tuple[float, float]:
        return frame["x"] + x, frame["y"] + y

    zone = "#new-zone-form"
    await page.fill(f"{zone} input[name=name]", "home")
    await page.click(f"{zone} button.polygon")
    for x, y in ((550, 200), (850, 220), (820, 520), (560, 480), (550, 200)):
        await page.mouse.click(*at(x, y))
    await expect(page.locator("#zones-table tr", has_text="home")).to_contain_text(
        "must stay inside"
    )
    await page.fill(f"{zone} input[name=name]", "bow tie")
    refusals.append("/zones")
    await page.click(f"{zone} button.polygon")
    for x, y in ((560, 250), (800, 500), (800, 250), (560, 500), (560, 250)):
        await page.mouse.click(*at(x, y))
    await expect(page.locator("#subject-manage .error")).to_contain_text("Self-intersection")
    await page.fill(f"{zone} input[name=name]", "curfew")
    await page.select_option(f"{zone} select[name=when]", "weekly")
    await expect(page.locator(f"{zone} .sentence")).to_have_text(
        "every day 22:00-06:00: must stay inside"
    )
    await page.click(f"{zone} button.circle")
    await page.mouse.click(*at(700, 350))
    await page.mouse.click(*at(760, 350))
    curfew = page.locator("#zones-table tr", has_text="curfew")
    await expect(curfew).to_contain_text("22:00")
    # A corridor along a drawn route (the way to work), 200 m wide, at all times.
    await page.fill(f"{zone} input[name=name]", "way to work")
    await page.select_option(f"{zone} select[name=when]", "always")
    await page.click(f"{zone} button.corridor")
    for x, y in ((580, 300), (700, 420), (800, 330), (800, 330)):  # the last vertex again ends it
        await page.mouse.click(*at(x, y))
    await expect(page.locator("#zones-table tr", has_text="way to work")).to_contain_text(
        "must stay inside"
    )

    # The curfew's hours changed (not on Sundays, from 23:00); the way to work ended.
    await curfew.locator("button.edit-when").click()
    hours = page.locator("#subject-body form.when-form")
    await hours.locator("input[name=day][value='6']").uncheck()
    await hours.locator("input[name=start]").fill("23:00")
    await expect(hours.locator(".sentence")).to_have_text(
        "Mo Tu We Th Fr Sa 23:00-06:00: must stay inside"
    )
    await hours.locator("button[type=submit]").click()
    await expect(curfew).to_contain_text("23:00-06:00")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#zones-table tr", has_text="way to work").locator("button.end").click()
    await expect(page.locator("#zones-table tr", has_text="way to work")).to_have_count(0)

    # A file that is not GeoJSON is refused before anything is sent.
    await page.fill(f"{zone} input[name=name]", "district")
    notes: FilePayload = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"home 22:00"}
    await page.set_input_files(f"{zone} input[name=file]", files=[notes])
    await expect(page.locator("#subject-manage .error")).to_contain_text("notes.txt is not GeoJSON")

    # The home's shape edited on the map: one corner dragged outwards, then saved.
    async with pool.connection() as conn:
        (new,) = [
            s for s in await store.subjects.list_subjects(conn, offices=None) if s.name == name
        ]
        assigned = await store.assignments.list_assignments(conn, subject_id=new.id)
        (home,) = [a for a in assigned if a.zone_name == "home"]
        before = await _ring(conn, home.zone_id)
    await page.locator("#zones-table tr", has_text="home").locator("button.edit-shape").click()
    corners = page.locator(".leaflet-marker-pane .marker-icon:not(.marker-icon-middle)")
    await expect(corners).to_have_count(4)
    cx, cy = await _settled(page, corners.first)  # the map flies to the shape first
    await page.mouse.move(cx, cy)
    await page.mouse.down()
    await page.mouse.move(cx - 40, cy - 40, steps=5)
    await page.mouse.up()
    await page.click("#subject-body button.save-shape")
    await expect(page.locator("#subject-body button.edit-shape")).to_have_count(
        2
    )  # home and curfew, drawn again
    async with pool.connection() as conn:
        after = await _ring(conn, home.zone_id)
    assert len(after) == len(before) == 5
    assert sum(a != b for a, b in zip(after[:-1], before[:-1], strict=True)) == 1  # one corner

    # After review the order in force is extended (the form offers its limit); the band is
    # unbound (kept for another subject, its history on record).
    extend = "#extend-order-form"
    await expect(page.locator(f"{extend} .hint")).to_contain_text("At most 3 months past its end")
    await page.fill(f"{extend} input[name=approved_by]", "县司法局局长")
    await page.fill(f"{extend} input[name=reason]", "review: still needed")
    await page.click(f"{extend} button[type=submit]")
    await expect(page.locator("#subject-manage h3", has_text="Extend the order")).to_be_visible()
    await page.locator("#devices-table tr", has_text=band).locator("button.unbind").click()
    await expect(page.locator("#devices-table tr", has_text=band)).to_have_count(0)
    await expect(page.locator("#bindings-table tr", has_text=band)).to_contain_text("unbound")
    # ... and bound again (back from repair): the history keeps both.
    await page.select_option("#bind-device-form select[name=device_id]", label=f"wristband {band}")
    await page.click("#bind-device-form button[type=submit]")
    await expect(page.locator("#devices-table tr", has_text=band)).to_be_visible()
    await expect(page.locator("#bindings-table tr", has_text=band)).to_have_count(2)

    # A phone running OwnTracks: its topic and passphrase (write-only), no broker password
    # from ccmon (it has its own account settings).
    phone = f"ot-{secrets.token_hex(3)}"
    await page.fill("#new-device-form input[name=code]", phone)
    await page.select_option("#new-device-form select[name=kind]", "phone")
    await page.fill("#new-device-form input[name=owntracks_topic]", f"zhang/{phone}")
    await page.fill("#new-device-form input[name=owntracks_key]", "passphrase of the app")
    await page.click("#new-device-form button[type=submit]")
    phone_row = page.locator("#devices-table tr", has_text=phone)
    await expect(phone_row.locator("button.locate")).to_be_visible()
    await expect(phone_row.locator("button.credentials")).to_have_count(0)
    await shot(page, "8-supervisor-subject", chinese_too=True)

    async with pool.connection() as conn:
        (subject,) = [
            s for s in await store.subjects.list_subjects(conn, offices=None) if s.name == name
        ]
        devices = await store.devices.list_devices(conn, offices=None, subject_id=subject.id)
        bindings = await store.devices.device_bindings(conn, subject_id=subject.id)
        orders = await store.orders.list_orders(conn, subject_id=subject.id)
        changes = await store.changes.list_changes(
            conn, offices=None, username=supervisor, limit=20
        )
        assignments = await store.assignments.list_assignments(
            conn, subject_id=subject.id, ended=True
        )
    assert (subject.level, subject.office) == ("strict", f"office for {seeded.device_code}")
    assert sorted((d.code, d.owntracks_topic, d.has_owntracks_key) for d in devices) == [
        (phone, f"zhang/{phone}", True),
        (band, None, False),
    ]
    assert sorted((b.device_code, b.unbound_by or "") for b in bindings) == sorted(
        [(band, supervisor), (band, ""), (phone, "")]
    )
    assert [(o.approved_by, o.ends_at - o.first_end >= timedelta(days=89)) for o in orders] == [
        ("县司法局局长", True)
    ]
    assert [e.reason for e in orders[0].extensions] == ["review: still needed"]
    assert sorted((a.zone_name, a.schedule is None, a.ended_by) for a in assignments) == [
        ("curfew", False, None),
        ("home", True, None),
        ("way to work", True, supervisor),
    ]
    async with pool.connection() as conn:
        (route,) = [
            z.geometry
            for z in await store.zones.list_zones(conn, offices=None)
            if z.name == "way to work"
        ]
    assert (route["type"], len(route["coordinates"]), route["width_m"]) == ("Corridor", 3, 200)
    (weekly,) = [a.schedule for a in assignments if a.schedule is not None]
    assert weekly["weekly"] == [{"days": [0, 1, 2, 3, 4, 5], "start": "23:00", "end": "06:00"}]
    assert sorted(c.action for c in changes) == sorted(
        ["create"] * 2  # the subject, the band
        + ["issue MQTT credentials", "create"]  # the band's password, the order
        + ["create", "assign"] * 3  # home, curfew, the way to work
        + ["schedule", "end"]  # the curfew's hours, the way to work
        + ["replace", "extend", "update", "update", "create"]  # home's shape ... the phone
    )
    assert "passphrase of the app" not in repr([c.detail for c in changes])


async def _settled(page: Page, marker: Locator) -> tuple[float, float]:
    """The marker's centre once it has stopped moving."""
    seen: list[tuple[float, float]] = []

    async def still() -> bool:
        box = await marker.bounding_box()
        assert box is not None
        seen.append((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2))
        await asyncio.sleep(0.1)
        return len(seen) > 2 and seen[-1] == seen[-2] == seen[-3]

    await until(still, timeout=5.0, what="the map settled")
    return seen[-1]


async def _ring(conn: AsyncConnection[Any], zone_id: int) -> list[list[float]]:
    (zone,) = await store.zones.list_zones(conn, offices=None, zone_id=zone_id)
    ring: list[list[float]] = zone.geometry["coordinates"][0]
    return ring


async def test_an_officer_requests_a_leave_and_the_supervisor_approves_it(
    pool: AsyncConnectionPool[Any], server: str, page: Page
) -> None:
    seeded = await seed_subject(pool, code=f"console-leave-{secrets.token_hex(3)}")
    officer = await officer_of(pool, seeded, prefix="console-lv", password=PASSWORD)
    supervisor = await officer_of(
        pool, seeded, prefix="console-lvs", password=PASSWORD, role="supervisor"
    )
    city = f"another city {secrets.token_hex(2)}"
    async with pool.connection() as conn:
        office = await store.subjects.subject_office(conn, subject_id=seeded.subject_id)
        await store.zones.create_zone(
            conn, name=city, geometry=square(5000.0, (104.5, 30.2)), office_id=office
        )
    await page.goto(server)
    await sign_in(page, officer)
    await page.click("nav button[data-view=subjects]")
    await expect(page.locator("#new-subject-form")).to_be_hidden()  # officers do not register
    await page.click(f"#subjects-table button:text-is('subject {seeded.device_code}')")
    form = "#new-leave-form"
    await page.select_option(f"{form} select[name=destination]", label=city)
    await page.fill(f"{form} input[name=reason]", "his mother's funeral")
    await page.click(f"{form} button[type=submit]")
    leave = page.locator("#subject-leaves li.leave")
    await expect(leave).to_contain_text(f"his mother's funeral · requested · {officer}")
    await expect(leave.locator("button")).to_have_count(0)  # an officer does not decide

    await page.click("#sign-out")
    await sign_in(page, supervisor)
    await page.click("nav button[data-view=subjects]")
    waiting = page.locator("#waiting-leaves li.leave", has_text="his mother's funeral")
    await expect(waiting).to_contain_text(f"subject {seeded.device_code}")
    await waiting.locator("input.note").fill("documents seen")
    await waiting.locator("button.approve").click()
    await expect(page.locator("#waiting-leaves")).not_to_contain_text("his mother's funeral")
    await shot(page, "11-subjects", chinese_too=True)
    async with pool.connection() as conn:
        (row,) = await store.leaves.list_leaves(conn, offices=None, subject_id=seeded.subject_id)
        (decided,) = [
            c
            for c in await store.changes.list_changes(
                conn, offices=None, username=supervisor, limit=10
            )
            if c.target == "leave"
        ]
    assert (row.state, row.requested_by, row.decided_by) == ("approved", officer, supervisor)

    # A supervisor asks for a leave to a place not yet a zone: named, drawn, chosen.
    await page.click(f"#subjects-table button:text-is('subject {seeded.device_code}')")
    place = f"成都 {secrets.token_hex(2)}"
    await page.fill(f"{form} input[name=new_destination]", place)
    await page.click(f"{form} button.draw-destination")
    frame = await page.locator("#map").bounding_box()
    assert frame is not None
    for x, y in ((600, 200), (800, 220), (760, 420), (600, 200)):
        await page.mouse.click(frame["x"] + x, frame["y"] + y)
    await expect(page.locator(f"{form} select[name=destination] option:checked")).to_have_text(
        place
    )
    await page.fill(f"{form} input[name=reason]", "work in Chengdu")
    await page.click(f"{form} button[type=submit]")
    await expect(page.locator("#subject-leaves li.leave", has_text=place)).to_contain_text(
        f"work in Chengdu · requested · {supervisor}"
    )
    assert (decided.action, decided.detail) == ("approve", {"note": "documents seen"})
