"""A load generator: prepared device messages published with QoS 1 as fast as the broker takes
them, or at a steady rate, noting when each was handed over (for end-to-end latency).

It speaks the few MQTT 3.1.1 packets it needs (CONNECT, PUBLISH at QoS 1, PUBACK,
DISCONNECT) itself, over one socket, from packets encoded before the clock starts: on a small
machine the load generator shares the CPU with what it loads, and paho spends about as much
CPU on each QoS 1 publish (~70 us measured here) as ingest spends on each message it stores.
The devices' own client is `simulators.devices` (aiomqtt); this is only for load.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Publishes sent and not yet acknowledged, at most: well below the 65,535 packet ids.
_OUTSTANDING = 20_000
# Messages sent in one write (and sharing one noted publish time).
_CHUNK = 50
_CONNACK_OK = b"\x20\x02\x00\x00"
_PUBACK = 0x40


@dataclass(frozen=True, slots=True)
class Load:
    """Messages in the order they are sent: `topics[i]` carries `payloads[i]`."""

    topics: list[str]
    payloads: list[bytes]

    def __len__(self) -> int:
        return len(self.payloads)


class LoadError(RuntimeError):
    pass


def fix_bodies(
    time: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    seq: NDArray[np.int64],
) -> list[bytes]:
    """Native v1 fixes (WGS-84, GNSS, 10 m, battery 80 %) as JSON objects, many at a time:
    the documented format `fix_payload` writes, without its per-fix cost."""
    iso = np.datetime_as_string((time * 1e6).astype("datetime64[us]"), unit="us")
    return [
        (
            f'{{"time":"{t}Z","lat":{la:.7f},"lon":{lo:.7f},"accuracy":10.0,'
            f'"source":"gnss","battery":80,"seq":{s}}}'
        ).encode()
        for t, lo, la, s in zip(iso.tolist(), lon.tolist(), lat.tolist(), seq.tolist(), strict=True)
    ]


def as_batch(bodies: list[bytes]) -> bytes:
    """Fixes as one array message (a device uploading what it held)."""
    return b"[" + b",".join(bodies) + b"]"


def _length(n: int) -> bytes:
    """MQTT's variable-length remaining length."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def _connect(client_id: str) -> bytes:
    body = _string("MQTT") + b"\x04\x02" + struct.pack("!H", 60) + _string(client_id)
    return b"\x10" + _length(len(body)) + body


def _publish(topic: str, payload: bytes, packet_id: int) -> bytes:
    body = _string(topic) + struct.pack("!H", packet_id) + payload
    return b"\x32" + _length(len(body)) + body


class _Acks:
    """Counts the broker's PUBACKs, read on a thread of their own."""

    def __init__(self, sock: socket.socket) -> None:
        self.count = 0
        self.error: str | None = None
        self._sock = sock
        self._more = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pending = b""
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError as exc:
                self.error = str(exc)
                data = b""
            if not data:
                with self._more:
                    self.error = self.error or "the broker closed the connection"
                    self._more.notify_all()
                return
            pending += data
            whole = len(pending) // 4 * 4
            if any(b != _PUBACK for b in pending[0:whole:4]):
                with self._more:
                    self.error = f"unexpected packet from the broker: {pending[:4]!r}"
                    self._more.notify_all()
                return
            with self._more:
                self.count += whole // 4
                self._more.notify_all()
            pending = pending[whole:]

    def wait(self, at_least: int, timeout_s: float) -> None:
        with self._more:
            if not self._more.wait_for(
                lambda: self.count >= at_least or self.error is not None, timeout_s
            ):
                raise LoadError(f"the broker acknowledged {self.count} of {at_least} messages")
            if self.error is not None and self.count < at_least:
                raise LoadError(self.error)


def publish_load(
    host: str,
    port: int,
    load: Load,
    *,
    rate: float | None,
    client_id: str = "ccmon-load",
    timeout_s: float = 300.0,
) -> NDArray[np.float64]:
    """Publish every message of `load` with QoS 1 at `rate` messages/s (None: as fast as the
    broker acknowledges) and wait until the broker has acknowledged them all. Returns the
    time each was published."""
    n = len(load)
    packets = [
        _publish(t, p, i % 65535 + 1)
        for i, (t, p) in enumerate(zip(load.topics, load.payloads, strict=True))
    ]
    sent = np.zeros(n, dtype=np.float64)
    with socket.create_connection((host, port)) as sock:
        sock.sendall(_connect(client_id))
        if sock.recv(4) != _CONNACK_OK:
            raise LoadError("the broker refused the connection")
        acks = _Acks(sock)
        start = time.time()
        for first in range(0, n, _CHUNK):
            if rate is not None and (ahead := start + first / rate - time.time()) > 0:
                time.sleep(ahead)
            if first - acks.count > _OUTSTANDING:
                acks.wait(first - _OUTSTANDING, timeout_s)
            chunk = packets[first : first + _CHUNK]
            sent[first : first + len(chunk)] = time.time()
            sock.sendall(b"".join(chunk))
        acks.wait(n, timeout_s)
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    return sent
