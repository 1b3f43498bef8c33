"""Native v1 device events, published on `cc/v1/devices/{code}/status`: what a device says
about itself (strap, power, battery, SOS)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from domain import DeviceEvent, EventReport
from ingest.errors import RejectedInputError
from ingest.wire import (
    Decoded,
    bound_device,
    check_battery,
    check_seq,
    check_time,
    decode_json,
    device_time,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device
    from ingest.wire import Limits

EVENT_TOPIC = "cc/v1/devices/+/status"
_TOPIC = re.compile(r"^cc/v1/devices/([A-Za-z0-9_.-]{1,64})/status$")


class EventV1(msgspec.Struct, frozen=True):
    """One device event (JSON). Unknown fields are ignored."""

    time: datetime
    event: DeviceEvent
    battery: int | None = None
    seq: int | None = None


_decoder = msgspec.json.Decoder(EventV1)


def decode_event(
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
        raise RejectedInputError(f"topic {topic!r} is not cc/v1/devices/<code>/status")
    code = match.group(1)
    event = decode_json(_decoder, payload, "v1 device event")
    t = device_time(event.time)
    check_time(t, received=received, limits=limits)
    check_battery(event.battery)
    check_seq(event.seq)
    device_id, subject_id = bound_device(code, devices.get(code))
    out = Decoded()
    out.events.append(
        EventReport(device_id, subject_id, t, event.event, event.battery, event.seq, received)
    )
    return out
