"""The duty officer's console: the live map, an alert arriving without a reload, resolved with
a note; a network drop ridden out; a subject's trail (an audited read) and the daily report;
an alert taking the officer to the subject, whose devices are asked to locate and check in;
an auditor's record of it; names shown as text, never run as code."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import Page, expect

import alerts
import store
from domain import AlertKind, AlertState, DeviceKind, Finding
from tests.console.browser import PASSWORD, needs_chromium, shot, sign_in, speak
from tests.helpers import officer_of, seed_subject, until
from tests.running import live_alerts, processed, publish, walk

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline
    from tests.conftest import Broker
    from tests.serving import Served

pytestmark = needs_chromium


async def test_an_officer_works_an_alert_from_the_console(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    served: Served,
    page: Page,
) -> None:
    server = served.url
    seeded = await seed_subject(pool, code=f"console-{secrets.token_hex(3)}")
    name = await officer_of(pool, seeded, prefix="console-officer", password=PASSWORD)
    await pipeline.refresh()
    await publish(mosquitto, walk(seeded, [0.0, 20.0, 40.0], step_s=600))
    await until(lambda: processed(pipeline, 3), what="the subject's fixes stored")

    await page.goto(server)
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("nav button:visible")).to_have_text(
        ["Map", "Daily report", "Subjects"]
    )
    device = page.locator(f'.device[data-subject="{seeded.subject_id}"]')
    await expect(device).to_be_visible()
    await expect(page.locator("#live-status")).to_have_class("status live")
    await expect(page.locator(".leaflet-control-scale")).to_be_visible()
    await shot(page, "1-map")

    # The subject walks out of its district: the alert arrives without a reload.
    await publish(mosquitto, walk(seeded, [1500.0, 1600.0, 1700.0], step_s=60))
    exit_alert = page.locator("#alerts li.alert", has_text="Left zone")
    await expect(exit_alert).to_be_visible(timeout=15_000)
    # A strap cut (critical) raises the alarm.
    async with pool.connection() as conn:
        await alerts.notices.record_findings(
            conn,
            [Finding(AlertKind.TAMPER, seeded.subject_id, time.time(), "strap cut")],
            actor="test",
        )
    await expect(page.locator("#alarm")).to_be_visible()
    critical = page.locator("#alerts li.alert.critical")
    await expect(page.locator("#alerts li.alert").first).to_have_class("alert critical fresh")
    await shot(page, "2-new-alerts")

    # Resolve the exit with a note, from the queue.
    await exit_alert.locator("input.note").fill("called him: back home by 21:00")
    await exit_alert.locator("button.resolve").click()
    await expect(exit_alert).to_have_count(0)
    live = {a.kind: a for a in await live_alerts(pool, seeded.subject_id)}
    assert set(live) == {AlertKind.TAMPER.value}  # the exit is no longer live
    async with pool.connection() as conn:
        resolved = await store.alerts.list_alerts(
            conn, states=[AlertState.RESOLVED], subject_id=seeded.subject_id, limit=10
        )
        (exit_row,) = resolved
        steps = await store.alerts.alert_events(conn, alert_id=exit_row.id)
    assert [(s.action, s.actor, s.note) for s in steps][-1] == (
        "resolved",
        name,
        "called him: back home by 21:00",
    )
    await expect(critical).to_have_count(1)

    # A network drop: the page shows it, and once back misses nothing opened meanwhile.
    await served.stop()
    await expect(page.locator("#live-status")).to_have_class("status offline")
    async with pool.connection() as conn:
        await alerts.notices.record_findings(
            conn,
            [Finding(AlertKind.SOS, seeded.subject_id, time.time(), "SOS pressed")],
            actor="test",
        )
    await served.start()
    await expect(page.locator("#live-status")).to_have_class("status live", timeout=20_000)
    await expect(page.locator("#alerts li.alert", has_text="SOS")).to_be_visible()

    # The subject's page and trail (a read with its purpose, on the record).
    await critical.locator("button.link").first.click()
    await expect(page.locator("#subject h2")).to_have_text(f"subject {seeded.device_code}")
    await page.fill("#trail-form input[name=purpose]", "checking the exit")
    await page.click("#trail-form button[type=submit]")
    # six fixes a minute or more apart: each in its own span of the 6 h range cut in 2,000
    await expect(page.locator("#trail-info")).to_contain_text("6 points shown of 6 fixes")
    await expect(page.locator(".leaflet-overlay-pane path[stroke='#7a1fa2']")).to_have_count(2)
    await page.click("#trail-play")
    await expect(page.locator("#trail-at")).not_to_be_empty()
    await shot(page, "3-subject-trail")
    async with pool.connection() as conn:
        reads = await store.audit.location_reads(
            conn, offices=None, subject_id=seeded.subject_id, username=name, limit=10
        )
    assert [(r.what, r.purpose, r.fixes) for r in reads] == [("trail", "checking the exit", 6)]

    # The SOS was a pocket press: dismissed as a false alarm, which the report counts.
    sos = page.locator("#alerts li.alert", has_text="SOS")
    await sos.locator("input.note").fill("pressed in his pocket: called, all well")
    await sos.locator("button.dismiss").click()
    await expect(sos).to_have_count(0)

    # In Chinese, the subject's page is said again, its trail kept; the daily report with its
    # charts and each kind's false alarms.
    await speak(page, "zh")
    await expect(page.locator("#subject-body h3").first).to_have_text("设备")
    await expect(page.locator(".leaflet-overlay-pane path[stroke='#7a1fa2']")).to_have_count(2)
    await expect(page.locator("#trail-info")).to_have_text("显示 6 个点，时段内共 6 个定位")
    await expect(page.locator("#subject-body")).not_to_contain_text("null")  # nothing unset
    await shot(page, "3-subject-trail.zh")
    await page.click("nav button[data-view=report]")
    await expect(page.locator("#report-figures")).to_contain_text("监管对象")
    await expect(page.locator("#chart-hours")).to_be_visible()
    kinds = page.locator("#report-kinds tr.kind-row")
    await expect(kinds.filter(has_text="紧急求助")).to_contain_text("1 (100%)")
    await expect(kinds.filter(has_text="越界")).to_contain_text("0 (0%)")
    await shot(page, "4-daily-report.zh")
    await speak(page, "en")
    await expect(page.locator("#report-figures")).to_contain_text("subjects monitored")
    await shot(page, "4-daily-report")

    # Signing out ends the session: back to the login, and the old token is refused.
    token = await page.evaluate("sessionStorage.getItem('ccmon.access')")
    await page.click("#sign-out")
    await expect(page.locator("#login-form")).to_be_visible()
    refused = await page.request.get(
        f"{server}/api/v1/subjects", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status == 401


async def _off_centre(page: Page, selector: str) -> float:
    """How far (px) the element's centre is from the map's."""
    box = await page.locator(selector).bounding_box()
    frame = await page.locator("#map").bounding_box()
    assert box is not None
    assert frame is not None
    dx = box["x"] + box["width"] / 2 - (frame["x"] + frame["width"] / 2)
    dy = box["y"] + box["height"] / 2 - (frame["y"] + frame["height"] / 2)
    return float((dx * dx + dy * dy) ** 0.5)


async def _farther(page: Page, selector: str, *, than: float) -> bool:
    return await _off_centre(page, selector) > than


async def _nearer(page: Page, selector: str, *, than: float) -> bool:
    return await _off_centre(page, selector) < than


async def test_an_alert_takes_the_officer_to_the_subject_who_asks_the_device(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    server: str,
    page: Page,
) -> None:
    """Clicking an alert flies the map to the subject and opens its page, where the officer
    asks the device to locate now and to check in, and sees each command's state; an auditor
    sees the page without those buttons."""
    seeded = await seed_subject(pool, code=f"console-cmd-{secrets.token_hex(3)}")
    band = f"band-{secrets.token_hex(3)}"
    async with pool.connection() as conn:
        await store.devices.create_device(
            conn, actor="test", code=band, kind=DeviceKind.WRISTBAND, subject_id=seeded.subject_id
        )
    name = await officer_of(pool, seeded, prefix="console-cmd", password=PASSWORD)
    await pipeline.refresh()
    await publish(mosquitto, walk(seeded, [0.0, 20.0], step_s=600))
    await publish(mosquitto, walk(seeded, [25.0], device=band))
    await until(lambda: processed(pipeline, 3), what="the subject's fixes stored")
    async with pool.connection() as conn:
        await alerts.notices.record_findings(
            conn,
            [Finding(AlertKind.TAMPER, seeded.subject_id, time.time(), "strap cut")],
            actor="test",
        )
    await page.goto(server)
    await sign_in(page, name)
    marker = f'.device[data-subject="{seeded.subject_id}"][data-device="{seeded.device_code}"]'
    await expect(page.locator(marker)).to_be_visible()
    # The officer has zoomed out around a corner of the map: the subject's phone and band
    # gather into one counted cluster, far from the map's centre.
    frame = await page.locator("#map").bounding_box()
    assert frame is not None
    await page.mouse.move(frame["x"] + 60, frame["y"] + 60)
    for _ in range(3):
        await page.mouse.wheel(0, 300)
        await page.wait_for_timeout(300)
    cluster = ".marker-cluster"
    await expect(page.locator(cluster)).to_have_count(1)  # once the zoom has settled
    await expect(page.locator(cluster)).to_have_text("2")
    await expect(page.locator(marker)).to_have_count(0)
    await until(lambda: _farther(page, cluster, than=150), timeout=5.0, what="the map moved aside")

    await page.locator("#alerts li.alert", has_text="Strap tamper").locator(".meta").click()
    await expect(page.locator("#subject h2")).to_have_text(f"subject {seeded.device_code}")
    await until(lambda: _nearer(page, marker, than=30), timeout=5.0, what="the map on the subject")

    await expect(page.locator(cluster)).to_have_count(0)  # close enough to tell them apart
    row = page.locator("#subject-body tr", has_text=seeded.device_code)
    await row.locator("button.locate").click()
    commands = page.locator("#subject-commands li.command")
    await expect(commands).to_have_count(1)
    await expect(commands.first).to_contain_text(f"locate {seeded.device_code} · pending · {name}")
    await row.locator("button.check-in").click()
    await expect(commands).to_have_count(2)
    await expect(commands.first).to_contain_text(f"check-in {seeded.device_code} · pending")
    async with pool.connection() as conn:
        issued = await store.commands.list_commands(conn, subject_id=seeded.subject_id, limit=10)
    assert sorted((c.kind, c.issued_by, c.state) for c in issued) == [
        ("check_in", name, "pending"),
        ("locate", name, "pending"),
    ]
    # The command channel moves a command on; the page follows without a reload.
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE device_commands SET state = 'expired'"
            " WHERE subject_id = %s AND kind = 'check_in'",
            (seeded.subject_id,),
        )
    await expect(commands.first).to_contain_text("check-in")
    await expect(commands.first).to_contain_text("expired")
    await shot(page, "6-subject-commands")

    # An auditor has the record, not the map: the officer's live reads and the two
    # commands in the change log, exported as CSV.
    auditor = await officer_of(
        pool, seeded, prefix="console-aud", password=PASSWORD, role="auditor"
    )
    await page.click("#sign-out")
    await sign_in(page, auditor)
    await expect(page.locator("nav button:visible")).to_have_text(["Audit"])
    await expect(page.locator("#map-view")).to_be_hidden()
    await page.fill("#audit-form input[name=username]", name)
    await page.click("#audit-form button[type=submit]")
    reads = page.locator("#audit-table tr", has_text="duty console: live map")
    await expect(reads.first).to_contain_text(name)
    await page.select_option("#audit-form select[name=kind]", "changes")
    changes = page.locator("#audit-table tr", has_text="command")
    await expect(changes).to_have_count(2)
    await expect(page.locator("#audit-info")).to_have_text("2 rows (newest first)")
    async with page.expect_download() as download:
        await page.click("#audit-csv")
    saved = Path(await (await download.value).path())
    csv = (await asyncio.to_thread(saved.read_text)).splitlines()
    assert csv[0] == "at,username,action,target,target_id,office_id,detail"
    assert [line.split(",")[1:4] for line in csv[1:]] == [[name, "command", "device"]] * 2
    assert any('""kind"":""check_in""' in line for line in csv[1:])
    await shot(page, "7-audit", chinese_too=True)


PAYLOAD = '<img src=x onerror="window.__xss=1">'


async def test_names_are_text_never_code(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    served: Served,
    page: Page,
) -> None:
    """A subject and a zone named with a script payload (stored XSS to every console that
    shows them): the page shows the payload as text and it never runs; every answer carries
    the Content-Security-Policy that would stop it anyway. /docs runs on shipped assets."""
    seeded = await seed_subject(pool, code=f"xss-{secrets.token_hex(3)}")
    name = await officer_of(pool, seeded, prefix="xss-officer", password=PASSWORD)
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE subjects SET name = %s WHERE id = %s", (f"subject {PAYLOAD}", seeded.subject_id)
        )
        await conn.execute(
            "UPDATE zones SET name = %s WHERE name = %s",
            (f"zone {PAYLOAD}", f"zone for {seeded.device_code}"),
        )
    await pipeline.refresh()
    await publish(mosquitto, walk(seeded, [0.0], step_s=60))
    await until(lambda: processed(pipeline, 1), what="the subject's fix stored")

    answer = await page.goto(served.url)
    assert answer is not None
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    device = page.locator(f'.device[data-subject="{seeded.subject_id}"]')
    await expect(device).to_be_visible()
    await device.hover()
    tooltip = page.locator(".leaflet-tooltip", has_text=f"subject {PAYLOAD}")  # not the zone's
    await expect(tooltip).to_be_visible()
    await expect(tooltip.locator("img")).to_have_count(0)
    # Each zone's tooltip opened in turn (zones of other tests may lie on top of this one).
    zone_tip = page.locator(".leaflet-tooltip", has_text=f"zone {PAYLOAD}")
    for path in await page.locator(".leaflet-overlay-pane path.leaflet-interactive").all():
        await path.dispatch_event("mouseover")
        if await zone_tip.count():
            break
    await expect(zone_tip).to_be_visible()
    await expect(zone_tip.locator("img")).to_have_count(0)
    await shot(page, "5-names-as-text")
    assert await page.evaluate("window.__xss") is None

    await page.goto(f"{served.url}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("ccmon")
    await expect(page.locator(".opblock-tag", has_text="alerts")).to_be_visible()
