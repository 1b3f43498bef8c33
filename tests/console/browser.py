"""What the console's browser tests share: Debian's Chromium, how a test signs in, and where
its screenshots go."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

if TYPE_CHECKING:
    from playwright.async_api import Page

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

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (./scripts/test installs it)"
)


async def shot(page: Page, name: str, *, chinese_too: bool = False) -> None:
    """The page as it is (English) in `name`.png; with `chinese_too`, also switched to
    Chinese in `name`.zh.png, and back (a test's last step: the view is drawn again)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if chinese_too:
        await speak(page, "zh")
        await page.screenshot(path=str(ARTIFACTS / f"{name}.zh.png"))
        await speak(page, "en")


async def speak(page: Page, language: str) -> None:
    """The console switched to `language`, and drawn again in it."""
    html = page.locator("html")
    if await html.get_attribute("lang") != language:
        await page.locator(".lang-toggle:visible").click()
    await expect(html).to_have_attribute("lang", language)
    # the view and the subject's page are read again from the API (loopback: well within)
    await page.wait_for_timeout(1000)


async def sign_in(page: Page, name: str) -> None:
    await expect(page.locator("#login-form")).to_be_visible()
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
