"""The duty officer console in headless Chromium (Debian's, driven by Playwright) against ccmon
served on loopback, fed through Mosquitto and the real pipeline with fixes in the simulator's
wire format: an officer signs in, sees the subject on the map, a new alert arrives without a
reload (and a critical one raises the alarm), is resolved with a note from the queue, and the
subject's trail is shown (an audited read). The page asks nothing of any other host.
Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import ConsoleMessage, Page, Request, Response, async_playwright, expect

import alerts
import store
from api import create_app, hash_password
from ccmon.metrics import metrics_router
from ccmon.mosquitto import new_device_password
from domain import AlertKind, AlertState, DeviceKind, Finding, add_months
from tests.helpers import officer_of, seed_subject, square, until
from tests.running import live_alerts, processed, publish, walk
from tests.serving import Served, serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline
    from tests.conftest import Broker

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PASSWORD = "console-officer-password"
# As this machine's notes say: headless, and nothing reaching out to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (./scripts/test installs it)"
)


@pytest.fixture
async def served(pool: AsyncConnectionPool[Any], pipeline: Pipeline) -> AsyncIterator[Served]:
    """The API with ingest's metrics, which the test stops and starts again (a network drop,
    as the page sees it)."""
    app = create_app(
        pool,
        routers=[metrics_router(pool, pipeline, asyncio.Queue())],
        live_interval_s=0.2,
        device_passwords=new_device_password,
    )
    async with serving(app) as api:
        yield api


@pytest.fixture
def server(served: Served) -> str:
    return served.url


@pytest.fixture
def refusals() -> list[str]:
    """Paths a test makes the API refuse on purpose (with a 4xx the page shows)."""
    return []


@pytest.fixture
async def page(server: str, refusals: list[str]) -> AsyncIterator[Page]:
    """A fresh browser page; fails the test on any script error, failed asset, request to
    another host, or refusal other than those the test asked for."""
    problems: list[str] = []

    def refused(response: Response) -> None:
        if response.status >= 400 and not any(p in response.url for p in refusals):
            problems.append(f"{response.status}: {response.url}")

    def logged(message: ConsoleMessage) -> None:
        # the browser logs every 4xx it is given, the asked-for ones too
        asked = "Failed to load resource" in message.text and refusals
        if message.type == "error" and not asked:
            problems.append(f"console: {message.text}")

    def elsewhere(request: Request) -> None:
        if not request.url.startswith(server) and not request.url.startswith("ws://127.0.0.1"):
            problems.append(f"request to another host: {request.url}")

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-GB")
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", logged)
        page.on("request", elsewhere)
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", refused)
        yield page
        await browser.close()
    assert problems == [], problems


async def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


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
    device = page.locator(f'.device[data-subject="{seeded.subject_id}"]')
    await expect(device).to_be_visible()
    await expect(page.locator("#live-status")).to_have_class("status live")
    await expect(page.locator(".leaflet-control-scale")).to_be_visible()
    await _shot(page, "1-map")

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
    await _shot(page, "2-new-alerts")

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
    await _shot(page, "3-subject-trail")
    async with pool.connection() as conn:
        reads = await store.audit.location_reads(
            conn, offices=None, subject_id=seeded.subject_id, username=name, limit=10
        )
    assert [(r.what, r.purpose, r.fixes) for r in reads] == [("trail", "checking the exit", 6)]

    # The daily report with its charts, in Chinese.
    await page.click(".lang-toggle >> nth=1")
    await page.click("nav button[data-view=report]")
    await expect(page.locator("#report-figures")).to_contain_text("监管对象")
    await expect(page.locator("#chart-hours")).to_be_visible()
    await _shot(page, "4-daily-report")

    # Signing out ends the session: back to the login, and the old token is refused.
    token = await page.evaluate("sessionStorage.getItem('ccmon.access')")
    await page.click("#sign-out")
    await expect(page.locator("#login-form")).to_be_visible()
    refused = await page.request.get(
        f"{server}/api/v1/subjects", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status == 401


async def _sign_in(page: Page, name: str) -> None:
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")


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
    await _sign_in(page, name)
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
    await _shot(page, "6-subject-commands")

    # An auditor has the record, not the map: the officer's live reads and the two
    # commands in the change log, exported as CSV.
    auditor = await officer_of(
        pool, seeded, prefix="console-aud", password=PASSWORD, role="auditor"
    )
    await page.click("#sign-out")
    await _sign_in(page, auditor)
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
    await _shot(page, "7-audit")


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
    await _sign_in(page, supervisor)
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
    row = page.locator("#subject-body tr", has_text=band)
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
    await expect(page.locator("#subject-body tr", has_text="home")).to_contain_text(
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
    curfew = page.locator("#subject-body tr", has_text="curfew")
    await expect(curfew).to_contain_text("22:00")
    await _shot(page, "8-supervisor-subject")

    # After review the order in force is extended (the form offers its limit); the band is
    # unbound (kept for another subject, its history on record).
    extend = "#extend-order-form"
    await expect(page.locator(f"{extend} .hint")).to_contain_text("At most 3 months past its end")
    await page.fill(f"{extend} input[name=approved_by]", "县司法局局长")
    await page.fill(f"{extend} input[name=reason]", "review: still needed")
    await page.click(f"{extend} button[type=submit]")
    await expect(page.locator("#subject-manage h3", has_text="Extend the order")).to_be_visible()
    await page.locator("#subject-body tr", has_text=band).locator("button.unbind").click()
    await expect(page.locator("#subject-body tr", has_text=band)).to_have_count(0)

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
        assignments = await store.assignments.list_assignments(conn, subject_id=subject.id)
    assert (subject.level, subject.office) == ("strict", f"office for {seeded.device_code}")
    assert devices == []  # unbound
    assert [(b.device_code, b.unbound_by) for b in bindings] == [(band, supervisor)]
    assert [(o.approved_by, o.ends_at - o.first_end >= timedelta(days=89)) for o in orders] == [
        ("县司法局局长", True)
    ]
    assert [e.reason for e in orders[0].extensions] == ["review: still needed"]
    assert sorted((a.zone_name, a.role, a.schedule is None) for a in assignments) == [
        ("curfew", "inclusion", False),
        ("home", "inclusion", True),
    ]
    (weekly,) = [a.schedule for a in assignments if a.schedule is not None]
    assert weekly["weekly"] == [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]
    assert sorted(c.action for c in changes) == [
        "assign",
        "assign",
        "create",
        "create",
        "create",
        "create",
        "create",
        "extend",
        "issue MQTT credentials",
        "update",
    ]


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
    await _sign_in(page, officer)
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
    await _sign_in(page, supervisor)
    await page.click("nav button[data-view=subjects]")
    waiting = page.locator("#waiting-leaves li.leave", has_text="his mother's funeral")
    await expect(waiting).to_contain_text(f"subject {seeded.device_code}")
    await waiting.locator("input.note").fill("documents seen")
    await waiting.locator("button.approve").click()
    await expect(page.locator("#waiting-leaves")).not_to_contain_text("his mother's funeral")
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
    assert (decided.action, decided.detail) == ("approve", {"note": "documents seen"})


def _patched(response: Response) -> bool:
    return response.request.method == "PATCH" and "/api/v1/users/" in response.url


async def test_an_admin_adds_an_office_and_an_officer_on_duty(
    pool: AsyncConnectionPool[Any], server: str, page: Page, refusals: list[str]
) -> None:
    """The office tree, a new office below one; a new officer in it, whose generated
    password (shown once) signs in; a phone and duty for text messages; disabled. A webhook
    and an API token, each shown once, stopped and revoked."""
    seeded = await seed_subject(pool, code=f"console-adm-{secrets.token_hex(3)}")
    admin = f"console-admin-{secrets.token_hex(3)}"
    async with pool.connection() as conn:
        await store.users.create_user(
            conn, username=admin, password_hash=hash_password(PASSWORD), role="admin"
        )
    await page.goto(server)
    await _sign_in(page, admin)
    await page.click("nav button[data-view=admin]")
    await expect(page.locator("#health-figures")).to_contain_text("fixes stored per second")
    await expect(page.locator("#health-chart")).to_be_visible()
    parent = f"office for {seeded.device_code}"
    office = f"新区司法所 {secrets.token_hex(2)}"
    await page.fill("#new-office-form input[name=name]", office)
    await page.select_option("#new-office-form select[name=parent_id]", label=parent)
    await page.click("#new-office-form button[type=submit]")
    child = page.locator("#offices-tree li", has_text=office)
    await expect(child).to_have_attribute("data-depth", "1")

    officer = f"duty-{secrets.token_hex(3)}"
    await page.fill("#new-user-form input[name=username]", officer)
    await page.select_option("#new-user-form select[name=role]", "officer")
    await page.select_option("#new-user-form select[name=office_id]", label=office)
    await page.click("#new-user-form button[type=submit]")
    await expect(page.locator("#admin-secret")).to_contain_text(officer)
    password = await page.locator("#admin-secret code.password").text_content()
    assert password is not None
    signed = await page.request.post(
        f"{server}/api/v1/auth/token", data={"username": officer, "password": password}
    )
    assert signed.status == 200

    row = f"#users-table tr[data-user='{officer}']"
    # each change is saved at once, and the list read again
    async with page.expect_response(_patched):
        await page.fill(f"{row} input.phone", "+8613800000009")
        await page.press(f"{row} input.phone", "Enter")
    await expect(page.locator(f"{row} input.phone")).to_have_value("+8613800000009")
    async with page.expect_response(_patched):
        await page.check(f"{row} input.on-duty")
    await expect(page.locator(f"{row} input.on-duty")).to_be_checked()
    async with page.expect_response(_patched):
        await page.click(f"{row} button.disable")
    await expect(page.locator(row)).to_have_class("user disabled")

    # Integrations: a webhook with its secret shown once, stopped; an API token shown once
    # that works, revoked.
    await page.fill("#new-webhook-form input[name=url]", "https://1.2.3.4/ccmon")
    await page.select_option("#new-webhook-form select[name=min_severity]", "high")
    await page.click("#new-webhook-form button[type=submit]")
    await expect(page.locator("#admin-secret")).to_contain_text("https://1.2.3.4/ccmon")
    hook = page.locator("#webhooks-table tr", has_text="https://1.2.3.4/ccmon")
    await expect(hook).to_contain_text("high")
    await hook.locator("button.stop").click()
    await expect(hook).to_contain_text("stopped")
    token_name = f"case system {secrets.token_hex(2)}"
    await page.fill("#new-token-form input[name=name]", token_name)
    await page.fill("#new-token-form input[name=username]", admin)
    await page.click("#new-token-form button[type=submit]")
    await expect(page.locator("#admin-secret")).to_contain_text(token_name)
    token = await page.locator("#admin-secret code.password").text_content()
    assert token is not None
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await page.request.get(f"{server}/api/v1/offices", headers=bearer)).status == 200
    await page.locator("#tokens-table tr", has_text=token_name).locator("button.revoke").click()
    await expect(page.locator("#tokens-table tr", has_text=token_name)).to_contain_text("revoked")
    refusals.append("/api/v1/offices")  # the revoked token, as it should be
    assert (await page.request.get(f"{server}/api/v1/offices", headers=bearer)).status == 401
    await _shot(page, "9-admin")
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT u.phone, u.on_duty, u.disabled_at IS NOT NULL, o.name, p.name"
            " FROM users u JOIN offices o ON o.id = u.office_id"
            " JOIN offices p ON p.id = o.parent_id WHERE u.username = %s",
            (officer,),
        )
        got = await cur.fetchone()
    assert got == ("+8613800000009", True, True, office, parent)


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
    tooltip = page.locator(".leaflet-tooltip", has_text=PAYLOAD)
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
    await _shot(page, "5-names-as-text")
    assert await page.evaluate("window.__xss") is None

    await page.goto(f"{served.url}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("ccmon")
    await expect(page.locator(".opblock-tag", has_text="alerts")).to_be_visible()
