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

from ccmon.bench import postgis
from ccmon.cli import until_signalled

if TYPE_CHECKING:
    from pathlib import Path

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
    [proximity] = [v for k, v in rows.items() if k.startswith("proximity (1,000 protected")]
    assert proximity.endswith(" ms")
    assert int(rows["findings over all batches"].replace(",", "")) >= 4


def _rows(out: str) -> dict[str, str]:
    return {
        name.strip(): value.strip()
        for name, value in (line.split("  ", 1) for line in out.splitlines() if "  " in line)
    }


def test_the_geofence_benchmark_compares_with_shapely_on_real_districts(realdata: Path) -> None:
    """A small run: both tables, and on the real districts no decisive answer that shapely
    or PostGIS contradicts."""
    out = subprocess.run(
        [
            *(sys.executable, "-m", "ccmon", "bench", "geofence", "--subjects", "20"),
            *("--fixes", "3000", "--batches", "1", "--district-subjects", "200"),
            *("--realdata", str(realdata)),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "real districts (Chengdu and Beijing" in out
    rows = _rows(out.split("real districts")[1])
    assert rows["zones / vertices"] == "38 / 94,872"
    decisive, wrong = rows["decisive pairs / disagreeing with shapely"].split(" / ")
    assert int(decisive.replace(",", "")) > 11_000
    assert wrong == "0"
    if postgis.missing() is None:  # scripts/test installs it
        assert rows["decisive pairs disagreeing with PostGIS"] == f"0 of {decisive}"
        assert rows["ratio ccmon / PostGIS"].endswith("x")
    else:
        assert rows["PostGIS 3 ST_Covers"] == f"skipped: {postgis.missing()}"


def test_the_geofence_benchmark_says_when_real_districts_are_absent(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "ccmon", "bench", "geofence", "--subjects", "20"),
            *("--fixes", "1000", "--batches", "1", "--realdata", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"real districts: skipped, no real data at {tmp_path}" in out
    assert _rows(out)["ratio ccmon / shapely vectorised"].endswith("x")


def test_the_end_to_end_benchmark_counts_every_fix_once_and_times_the_alerts(
    database_url: str,
) -> None:
    """A small run with two ingest processes sharing the subscription: every phase stores
    each published fix exactly once, and the walkers' exits are alerted and timed."""
    out = subprocess.run(
        [
            *(sys.executable, "-m", "ccmon", "bench", "e2e", "--ingest", "2"),
            *("--subjects", "40", "--single", "2000", "--batched", "100"),
            *("--rate", "500", "--seconds", "4"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CCMON_DATABASE_URL": database_url},
    ).stdout
    rows = {
        name.strip(): value.strip()
        for name, value in (line.split("  ", 1) for line in out.splitlines() if "  " in line)
    }
    assert rows["single: fixes published / stored / distinct"].startswith("2,000 / 2,000 / 2,000")
    assert rows["batched: fixes published / stored / distinct"].startswith("5,000 / 5,000 / 5,000")
    assert rows["paced: fixes published / stored / distinct"].startswith("2,000 / 2,000 / 2,000")
    assert all("each exactly once" in v for k, v in rows.items() if k.endswith("distinct"))
    assert rows["paced: zone exits alerted"] == "10"  # every fourth of 40 subjects walks out
    assert rows["paced: publish -> alert committed p50 / p99 / max"].endswith(" ms")


def test_the_broker_config_refuses_what_ingest_refuses() -> None:
    """The generated config's `message_size_limit` is ingest's limit, or the one asked for."""

    def config(*args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            [sys.executable, "-m", "ccmon", "mosquitto-config", *args],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **(env or {})},
        ).stdout

    assert "message_size_limit 262144\n" in config()
    assert "message_size_limit 65536\n" in config(env={"CCMON_MESSAGE_MAX_BYTES": "65536"})
    assert "message_size_limit 4096\n" in config("--message-size-limit", "4096")


def test_the_live_feed_benchmark_times_what_the_officer_is_shown() -> None:
    """A short run of the demo city (in a throw-away database of its own: the city's
    devices are registered by name): positions reach the feed and each is timed."""
    env = {k: v for k, v in os.environ.items() if k != "CCMON_DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-m", "ccmon", "bench", "live", "--seconds", "8"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    rows = _rows(out)
    shown, _ = rows["positions shown / alert steps shown"].split(" / ")
    assert int(shown.replace(",", "")) > 20
    assert rows["fix time -> on the feed, positions: p50 / p99 / max"].endswith(" ms")
