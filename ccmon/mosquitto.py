"""The Mosquitto configuration ccmon runs against: nothing a slow subscriber misses is
dropped, and (with an auth folder) every device may publish only to its own topics."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

import store
from ingest import command_username
from store.devices import BrokerAccount

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from psycopg_pool import AsyncConnectionPool


log = logging.getLogger(__name__)

# Device passwords are random 32-character tokens: the hash's work factor guards little, and
# the broker pays it on every connect.
_PBKDF2_ITERATIONS = 1000
PASSWORD_FILE = "passwords"  # noqa: S105 (a file name)
ACL_FILE = "acl"
INGEST_MARKERS = "cc/v1/ingest/+/mark"  # each ingest process's own (ingest.backlog)
INGEST_READS = (
    "cc/v1/devices/+/fix",
    "cc/v1/devices/+/status",
    "cc/v1/devices/+/cmd/result",
    "owntracks/#",
    INGEST_MARKERS,
)
INGEST_WRITES = ("cc/v1/devices/+/cmd", "owntracks/+/+/cmd", INGEST_MARKERS)


def mosquitto_config(
    *,
    port: int,
    host: str = "127.0.0.1",
    persistence_dir: Path | None,
    auth_dir: Path | None = None,
    in_flight: int = 2000,
    message_max_bytes: int = 256 * 1024,
    tls: TlsListener | None = None,
) -> str:
    """A mosquitto.conf for ccmon's ingest.

    Mosquitto's default `max_queued_messages 1000` silently drops QoS 1 messages for a
    subscriber that falls behind; 0 means no limit, so a backlog waits in the broker instead.
    `in_flight`: messages sent to a subscriber and not yet acknowledged, at most. Ingest
    acknowledges once stored, so this bounds what it holds while the store is slow or away
    (the rest waits in the broker); keep it at least ingest's queue (4 x CCMON_BATCH_SIZE).
    `message_max_bytes`: larger payloads are refused by the broker, as ingest would refuse
    them (CCMON_MESSAGE_MAX_BYTES), so none is queued or sent to ingest.
    With `persistence_dir`, queued messages and persistent sessions survive a broker restart.
    With `auth_dir` (written by `ccmon mosquitto-auth`), only known users connect, each
    limited by the ACL there. With `tls`, a second listener speaks MQTT over TLS (devices on
    the network use it; keep the plain one on loopback, or firewalled).
    """
    lines = [f"listener {port} {host}"]
    if tls is not None:
        lines += [
            f"listener {tls.port} {tls.host}",
            f"certfile {tls.certfile}",
            f"keyfile {tls.keyfile}",
            "tls_version tlsv1.2",
        ]
    if auth_dir is None:
        lines.append("allow_anonymous true")
    else:
        lines += [
            "allow_anonymous false",
            f"password_file {auth_dir / PASSWORD_FILE}",
            f"acl_file {auth_dir / ACL_FILE}",
            # A client's id is its username: a device account cannot take ingest's session
            # (nor another device's) by connecting with its client id.
            "use_username_as_clientid true",
        ]
    lines += [
        "max_queued_messages 0",
        "max_queued_bytes 0",
        f"max_inflight_messages {in_flight}",
        f"message_size_limit {message_max_bytes}",
        "persistent_client_expiration 7d",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
    ]
    if persistence_dir is not None:
        lines += ["persistence true", f"persistence_location {persistence_dir}/"]
    else:
        lines.append("persistence false")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class TlsListener:
    """Where the broker speaks MQTT over TLS, with its certificate and key (PEM files the
    `mosquitto` user can read)."""

    port: int
    certfile: Path
    keyfile: Path
    host: str = "0.0.0.0"  # noqa: S104 (devices reach it from the network; TLS only)


def password_hash(password: str, *, salt: bytes | None = None) -> str:
    """`password` as Mosquitto 2's password file holds it: PBKDF2-SHA512 in its `$7$` form
    (iterations, 12-byte salt and 64-byte digest, base64), as `mosquitto_passwd` writes."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    return (
        f"$7${_PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}"
        f"${base64.b64encode(digest).decode()}"
    )


def new_device_password() -> tuple[str, str]:
    """(password to hand to the device, its hash to store)."""
    password = secrets.token_urlsafe(24)
    return password, password_hash(password)


def ingest_users(user: str, *, processes: int = 1) -> list[str]:
    """The broker accounts of ingest: one per process (`user`, then `user-2`, ...), and for
    each its command channel's (`-commands`). Under the generated config a client's id is its
    username, so each MQTT client of ccmon needs an account of its own."""
    names = [user] + [f"{user}-{k}" for k in range(2, processes + 1)]
    return [n for name in names for n in (name, command_username(name))]


def password_file(
    accounts: Iterable[BrokerAccount], *, ingest: Iterable[str], ingest_hash: str
) -> str:
    """Every device account, and ingest's own (all with ingest's password)."""
    rows = [f"{name}:{ingest_hash}" for name in ingest]
    rows += [f"{a.username}:{a.password_hash}" for a in accounts]
    return "\n".join(rows) + "\n"


def acl_file(accounts: Iterable[BrokerAccount], *, ingest: Iterable[str]) -> str:
    """Ingest reads every device topic and writes commands; each device publishes to its own
    topics (results of its commands included) and reads its own command topic, nothing else
    (Mosquitto drops what a user may not publish)."""
    ingest_blocks = [
        [
            f"user {name}",
            *(f"topic read {t}" for t in INGEST_READS),
            *(f"topic write {t}" for t in INGEST_WRITES),
        ]
        for name in ingest
    ]
    devices = [
        [
            f"user {a.username}",
            *(f"topic write {t}" for t in a.publish),
            *(f"topic read {t}" for t in a.read),
        ]
        for a in accounts
    ]
    return "\n\n".join("\n".join(block) for block in [*ingest_blocks, *devices]) + "\n"


def write_auth_files(
    folder: Path,
    accounts: Iterable[BrokerAccount],
    *,
    ingest: tuple[str, str],
    processes: int = 1,
) -> None:
    """The password file and ACL in `folder`, for the devices' `accounts` and ingest's
    (username, password) in each of its `processes`. New files are mode 640 from their
    creation (give the broker's user read access, by group); files written again keep the
    mode and group they had."""
    accounts = list(accounts)
    folder.mkdir(parents=True, exist_ok=True)
    user, password = ingest
    names = ingest_users(user, processes=processes)
    for name, text in (
        (
            PASSWORD_FILE,
            password_file(accounts, ingest=names, ingest_hash=password_hash(password)),
        ),
        (ACL_FILE, acl_file(accounts, ingest=names)),
    ):
        path = folder / name
        before = path.stat() if path.exists() else None
        mode = 0o640 if before is None else stat.S_IMODE(before.st_mode)
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(path, mode)  # not narrowed by the umask
        if before is not None and before.st_gid != path.stat().st_gid:
            os.chown(path, -1, before.st_gid)


@dataclass(frozen=True, slots=True)
class Accounts:
    """The broker accounts as written, at the registry's version they were read at."""

    version: int
    accounts: frozenset[BrokerAccount]


@dataclass(frozen=True, slots=True)
class AccountSync:
    """Keeps the broker's password file and ACL in `folder` in step with the registry, so
    a device's broker password issued in the console lets it in within seconds, without a
    terminal: the files are written again when the accounts change, then the broker (its
    pid in `pid_file`) is told to read them (SIGHUP)."""

    folder: Path
    ingest: tuple[str, str]
    processes: int
    pid_file: Path | None

    async def once(self, pool: AsyncConnectionPool[Any], seen: Accounts | None) -> Accounts:
        """Write the files if the accounts are not those `seen` last; the accounts now. The
        registry's version (one row) is read first: the accounts are read only when devices
        may have changed, and the files written only when the accounts did."""
        async with pool.connection() as conn:
            version = await store.registry.registry_version(conn)
            if seen is not None and version == seen.version:
                return seen
            accounts = frozenset(await store.devices.broker_accounts(conn))
        now = Accounts(version, accounts)
        if seen is not None and accounts == seen.accounts:
            return now
        write_auth_files(self.folder, accounts, ingest=self.ingest, processes=self.processes)
        if self.pid_file is None:
            log.warning("broker accounts written to %s: reload the broker (kill -HUP)", self.folder)
        else:
            os.kill(int(self.pid_file.read_text().strip()), signal.SIGHUP)
            log.info("broker accounts written (%d devices); the broker reloads them", len(accounts))
        return now

    async def run(self, pool: AsyncConnectionPool[Any], *, every_s: float) -> None:
        seen = None
        while True:
            try:
                seen = await self.once(pool, seen)
            except (psycopg.Error, OSError, ValueError):
                log.exception("broker accounts not written; trying again")
            store.cancellation.honour_cancellation()
            await asyncio.sleep(every_s)


class MosquittoError(RuntimeError):
    pass


@contextlib.contextmanager
def running_mosquitto(
    folder: Path, config: str, port: int, *, timeout_s: float = 10.0
) -> Iterator[subprocess.Popen[bytes]]:
    """The Mosquitto broker (Debian package `mosquitto`) with `config`, listening on
    loopback `port`, logging into `folder`; stopped on exit. Started as root, it reads its
    files and writes persistence as the `mosquitto` user: `folder` must let that user in."""
    exe = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if exe is None:
        raise MosquittoError("the mosquitto broker is not installed: `apt-get install mosquitto`")
    conf = folder / "mosquitto.conf"
    conf.write_text(config, encoding="utf-8")
    with (folder / "mosquitto.log").open("wb") as log:
        # the installed broker with a config ccmon wrote
        proc = subprocess.Popen(  # noqa: S603
            [exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for_port(port, proc, timeout_s)
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise MosquittoError(f"mosquitto exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise MosquittoError(f"mosquitto did not listen on {port} within {timeout_s} s")
