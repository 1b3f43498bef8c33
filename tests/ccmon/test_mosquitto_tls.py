"""MQTT over TLS: `ccmon mosquitto-config` with a certificate and key adds a TLS listener;
ingest connects to it checking the broker's certificate, a device publishes through it and
the fix is stored; a client that does not trust the certificate is refused."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from typing import TYPE_CHECKING, Any

import aiomqtt
import pytest

from ccmon.bench.common import free_port
from ccmon.mosquitto import TlsListener, mosquitto_config
from tests.conftest import Broker, shared_folder, started_mosquitto
from tests.helpers import seed_subject, until
from tests.running import processed, running_pipeline, walk

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool

OPENSSL = shutil.which("openssl")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the system's openssl."""
    assert OPENSSL is not None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    key.chmod(0o644)  # the broker reads it as the `mosquitto` user (a throw-away key)
    return cert, key


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
async def test_ingest_and_devices_speak_mqtt_over_tls(pool: AsyncConnectionPool[Any]) -> None:
    seeded = await seed_subject(pool, code="tls-phone")
    folder = shared_folder("ccmon-tls-")
    cert, key = _self_signed(folder)
    plain, secure = free_port(), free_port()
    config = mosquitto_config(
        port=plain,
        persistence_dir=None,
        tls=TlsListener(secure, cert, key, host="127.0.0.1"),
    )
    assert f"listener {secure} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n" in config
    try:
        with started_mosquitto(folder, config, plain):
            broker = Broker("127.0.0.1", secure)
            async with running_pipeline(
                pool, broker, client_id="tls-ingest", tls_ca=str(cert)
            ) as p:
                trusted = aiomqtt.TLSParameters(ca_certs=str(cert))
                async with aiomqtt.Client("127.0.0.1", secure, tls_params=trusted) as device:
                    for topic, payload in walk(seeded, [0.0]):
                        await device.publish(topic, payload, qos=1)
                await until(lambda: processed(p, 1), what="the fix sent over TLS")
                assert p.stats.stored == 1
            # The listener speaks TLS with that certificate: a client trusting only the
            # system's CAs refuses it.
            with (
                pytest.raises(ssl.SSLCertVerificationError),
                socket.create_connection(("127.0.0.1", secure), timeout=5) as raw,
                ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1"),
            ):
                pass
    finally:
        shutil.rmtree(folder)
