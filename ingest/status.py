"""Native v1 status events on `cc/v1/devices/{device}/status`: what a device says about
itself (strap, power, battery, SOS)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from domain import DeviceEvent
from ingest.errors import RejectedInputError
from ingest.wire import Decoded, bound_device, decode_json
from store import NewEvent

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device
    from ingest.wire import Limits

STATUS_TOPIC = "cc/v1/devices/+/status"
_TOPIC = re.compile(r"^cc/v1/devices/([A-Za-z0-9_.-]{1,64})/status$")


class StatusV1(msgspec.Struct, frozen=True):
    """One status event (JSON). Unknown fields are ignored."""

    time: datetime
    event: DeviceEvent
    battery: int | None = None
    seq: int | None = None


_decoder = msgspec.json.Decoder(StatusV1)


def decode_status(
    topic: str,
    payload: bytes,
    *,
    received: float,
    devices: Mapping[str, Device],
    limits: Limits,
) -> Decoded:
    """Topic + raw payload -> one device event, or RejectedInputError with the reason."""
    match = _TOPIC.match(topic)
    if match is None:
        raise RejectedInputError(f"topic {topic!r} is not cc/v1/devices/<device id>/status")
    code = match.group(1)
    status = decode_json(_decoder, payload, "v1 status")
    if status.time.tzinfo is None:
        raise RejectedInputError("time has no UTC offset: send RFC 3339 like 2026-11-25T08:00:00Z")
    t = status.time.timestamp()
    if t > received + limits.max_future_s:
        stamp = datetime.fromtimestamp(t, UTC).isoformat()
        raise RejectedInputError(f"time {stamp} is {t - received:.0f} s in the future")
    if status.battery is not None and not 0 <= status.battery <= 100:
        raise RejectedInputError(f"battery {status.battery} is outside 0..100")
    if status.seq is not None and status.seq < 0:
        raise RejectedInputError(f"seq {status.seq} is negative")
    device_id, subject_id = bound_device(code, devices.get(code))
    out = Decoded()
    out.events.append(
        NewEvent(device_id, subject_id, t, status.event, status.battery, status.seq, received)
    )
    return out
