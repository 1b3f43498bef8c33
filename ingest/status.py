"""Native v1 status events on `cc/v1/devices/{device}/status`: what a device says about
itself (strap, power, battery, SOS)."""

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
    t = device_time(status.time)
    check_time(t, received=received, limits=limits)
    check_battery(status.battery)
    check_seq(status.seq)
    device_id, subject_id = bound_device(code, devices.get(code))
    out = Decoded()
    out.events.append(
        EventReport(device_id, subject_id, t, status.event, status.battery, status.seq, received)
    )
    return out
