"""The console's fixtures: ccmon's API on loopback (with ingest's metrics) and a fresh
Chromium page that fails its test on any script error, failed asset, request to another host
or refusal the test did not ask for."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import ConsoleMessage, Page, Request, Response, async_playwright

from api import create_app
from ccmon.metrics import metrics_router
from ccmon.mosquitto import new_device_password
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS
from tests.serving import Served, serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline


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
        # an officer's browser is in China: the report's day is the office's day
        context = await browser.new_context(
            viewport={"width": 1400, "height": 860}, locale="en-GB", timezone_id="Asia/Shanghai"
        )
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", logged)
        page.on("request", elsewhere)
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", refused)
        yield page
        await browser.close()
    assert problems == [], problems
