"""The command line: its commands, and that a stop always finishes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from ccmon.cli import until_signalled

if TYPE_CHECKING:
    import pytest


def test_help_lists_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ccmon", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in (
        "demo",
        "serve",
        "migrate",
        "seed-city",
        "simulate",
        "mosquitto-config",
        "mosquitto-auth",
        "device-credentials",
        "bench",
    ):
        assert command in out


async def _swallows_the_first_cancel(cleaned_up: list[str]) -> None:
    """Like a library whose asyncio.wait_for loses a cancellation on Python 3.11."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(60)
    try:
        await asyncio.sleep(60)
    finally:
        cleaned_up.append("finally ran")


def test_a_swallowed_cancellation_still_stops(caplog: pytest.LogCaptureFixture) -> None:
    cleaned_up: list[str] = []

    async def run() -> None:
        asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGTERM)
        await until_signalled(_swallows_the_first_cancel(cleaned_up), grace_s=0.5)

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started < 5
    assert cleaned_up == ["finally ran"]
    assert "still stopping after 0 s; cancelling again" in caplog.text


def test_the_rules_benchmark_runs_and_finds_what_it_plants() -> None:
    """A small run: the subjects out of the district (2%) are found, and every stage timed."""
    out = subprocess.run(
        [sys.executable, "-m", "ccmon", "bench", "rules", "--subjects", "200", "--fixes", "2000"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = dict(line.rsplit("  ", 1) for line in out.strip().splitlines())
    rows = {k.strip(): v.strip() for k, v in rows.items()}
    assert rows["subjects (phone + wristband each) / fixes per batch"] == "200 / 2,000"
    assert rows["geofence"].endswith(" ms")
    assert int(rows["findings over all batches"].replace(",", "")) >= 4
