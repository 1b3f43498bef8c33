"""Native v1 device events."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from domain import Device, DeviceEvent, DeviceKind
from ingest import Limits, RejectedInputError, decode_event

NOW = time.time()
RECENT = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW - 60))
LIMITS = Limits(max_future_s=300, max_age_s=86400, max_accuracy_m=50_000)
BAND = Device(id=3, code="wb-1", kind=DeviceKind.WRISTBAND, subject_id=8, active=True)


def decode(body: dict[str, Any] | bytes, topic: str = "cc/v1/devices/wb-1/status") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return decode_event(topic, raw, received=NOW, devices={"wb-1": BAND}, limits=LIMITS)


def test_a_strap_cut_is_an_event_of_the_device_and_its_subject() -> None:
    got = decode({"time": RECENT, "event": "strap_cut", "battery": 40, "seq": 7})
    (event,) = got.events
    assert (event.device_id, event.subject_id, event.event) == (3, 8, DeviceEvent.STRAP_CUT)
    assert (event.battery, event.seq) == (40, 7)
    assert got.fixes == []


@pytest.mark.parametrize(
    ("body", "topic", "reason"),
    [
        (
            {"time": RECENT, "event": "exploded"},
            None,
            "Invalid enum value 'exploded'",
        ),
        ({"time": "2026-11-25T08:00:00", "event": "sos"}, None, "no UTC offset"),
        ({"time": "2036-11-25T08:00:00Z", "event": "sos"}, None, "in the future"),
        ({"time": "2016-11-25T08:00:00Z", "event": "sos"}, None, "older than 86400 s"),
        (
            {"time": "9999-12-31T23:59:59-14:00", "event": "power_on"},
            None,
            r"time 253402351199 \(epoch seconds\) is \d+ s in the future",
        ),
        ({"time": RECENT, "event": "sos", "battery": 101}, None, "battery 101"),
        ({"event": "sos"}, None, "missing required field `time`"),
        (
            {"time": RECENT, "event": "sos"},
            "cc/v1/devices/nobody/status",
            "unknown device 'nobody'",
        ),
        (b"{", None, "not JSON"),
    ],
)
def test_bad_status_is_refused_with_a_reason(body: Any, topic: str | None, reason: str) -> None:
    with pytest.raises(RejectedInputError, match=reason):
        decode(body, topic or "cc/v1/devices/wb-1/status")
