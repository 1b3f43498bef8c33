"""An admin's console: offices, users (a password shown once, a phone and duty for texts,
disabled), webhooks and API tokens, system health."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from playwright.async_api import Page, Response, expect

import store
from api import hash_password
from tests.console.browser import PASSWORD, needs_chromium, shot, sign_in
from tests.helpers import seed_subject

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

pytestmark = needs_chromium


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
    await sign_in(page, admin)
    await expect(page.locator("nav button:visible")).to_have_text(
        ["Map", "Daily report", "Subjects", "Audit", "Admin"]
    )
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
    await shot(page, "9-admin", chinese_too=True)
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT u.phone, u.on_duty, u.disabled_at IS NOT NULL, o.name, p.name"
            " FROM users u JOIN offices o ON o.id = u.office_id"
            " JOIN offices p ON p.id = o.parent_id WHERE u.username = %s",
            (officer,),
        )
        got = await cur.fetchone()
    assert got == ("+8613800000009", True, True, office, parent)
