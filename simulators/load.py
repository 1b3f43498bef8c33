"""A load generator: prepared device messages published with QoS 1 as fast as the broker takes
them, or at a steady rate, noting when each was handed over (for end-to-end latency)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Publishes not yet acknowledged by the broker, at most: enough to keep loopback busy.
_IN_FLIGHT = 1000
# A paced publisher checks the clock once per this many messages.
_PACE_EVERY = 50


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


def publish_load(
    host: str,
    port: int,
    load: Load,
    *,
    rate: float | None,
    client_id: str = "ccmon-load",
    timeout_s: float = 300.0,
) -> NDArray[np.float64]:
    """Publish every message of `load` at `rate` messages/s (None: as fast as possible) and
    wait until the broker has acknowledged them all. Returns the time each was published."""
    n = len(load)
    sent = np.zeros(n, dtype=np.float64)
    acknowledged = threading.Event()
    count = 0

    def on_publish(
        _client: mqtt.Client, _userdata: object, _mid: int, _reason: object, _props: object
    ) -> None:
        nonlocal count
        count += 1
        if count == n:
            acknowledged.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(_IN_FLIGHT)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect(host, port)
    client.loop_start()
    try:
        start = time.time()
        for i, (topic, payload) in enumerate(zip(load.topics, load.payloads, strict=True)):
            if rate is not None and i % _PACE_EVERY == 0:
                ahead = start + i / rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
            sent[i] = time.time()
            client.publish(topic, payload, qos=1)
        if n and not acknowledged.wait(timeout_s):
            raise LoadError(f"the broker acknowledged {count} of {n} messages in {timeout_s} s")
    finally:
        client.loop_stop()
        client.disconnect()
    return sent
