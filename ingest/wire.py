"""The native v1 wire format: decode and validate at the edge into trusted fixes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import msgspec

from domain import FixSource
from ingest.errors import RejectedInputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device

FIX_TOPIC = "cc/v1/devices/+/fix"
_TOPIC = re.compile(r"^cc/v1/devices/([A-Za-z0-9_.-]{1,64})/fix$")


class FixV1(msgspec.Struct, frozen=True):
    """`cc/v1/devices/{device}/fix` payload (JSON). Unknown fields are ignored."""

    time: datetime
    lat: float
    lon: float
    accuracy: float
    source: Literal["gnss", "wifi", "cell"]
    battery: int | None = None
    seq: int | None = None


_decoder = msgspec.json.Decoder(FixV1)


@dataclass(frozen=True, slots=True)
class Limits:
    """How far from the receiving clock a fix time may be; bounds on accuracy."""

    max_future_s: float
    max_age_s: float
    max_accuracy_m: float


@dataclass(frozen=True, slots=True)
class DecodedFix:
    """A validated fix of a registered, active device bound to a subject."""

    device_id: int
    subject_id: int
    time: float
    lon: float
    lat: float
    accuracy: float
    source: FixSource
    battery: int
    seq: int
    received: float


def device_code(topic: str) -> str:
    match = _TOPIC.match(topic)
    if match is None:
        raise RejectedInputError(f"topic {topic!r} is not cc/v1/devices/<device id>/fix")
    return match.group(1)


def _check(fix: FixV1, *, received: float, limits: Limits) -> float:
    if fix.time.tzinfo is None:
        raise RejectedInputError("time has no UTC offset: send RFC 3339 like 2026-11-25T08:00:00Z")
    t = fix.time.timestamp()
    if not -90.0 <= fix.lat <= 90.0:
        raise RejectedInputError(f"lat {fix.lat:g} is outside -90..90")
    if not -180.0 <= fix.lon <= 180.0:
        raise RejectedInputError(f"lon {fix.lon:g} is outside -180..180")
    if not 0.0 <= fix.accuracy <= limits.max_accuracy_m:
        raise RejectedInputError(
            f"accuracy {fix.accuracy:g} m is outside 0..{limits.max_accuracy_m:g}"
        )
    if t > received + limits.max_future_s:
        raise RejectedInputError(
            f"time {fix.time.isoformat()} is {t - received:.0f} s in the future"
        )
    if t < received - limits.max_age_s:
        raise RejectedInputError(
            f"time {fix.time.isoformat()} is older than {limits.max_age_s:.0f} s"
        )
    if fix.battery is not None and not 0 <= fix.battery <= 100:
        raise RejectedInputError(f"battery {fix.battery} is outside 0..100")
    if fix.seq is not None and fix.seq < 0:
        raise RejectedInputError(f"seq {fix.seq} is negative")
    return t


def _device(code: str, devices: Mapping[str, Device]) -> tuple[int, int]:
    device = devices.get(code)
    if device is None:
        raise RejectedInputError(f"unknown device {code!r}: not registered")
    if not device.active:
        raise RejectedInputError(f"device {code!r} is not active")
    if device.subject_id is None:
        raise RejectedInputError(f"device {code!r} is not bound to a subject")
    return device.id, device.subject_id


def decode_fix(
    topic: str,
    payload: bytes,
    *,
    received: float,
    devices: Mapping[str, Device],
    limits: Limits,
) -> DecodedFix:
    """Topic + raw payload -> DecodedFix, or RejectedInputError with the reason."""
    code = device_code(topic)
    try:
        fix = _decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise RejectedInputError(f"invalid v1 fix: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise RejectedInputError(f"not JSON: {exc}") from exc
    t = _check(fix, received=received, limits=limits)
    device_id, subject_id = _device(code, devices)
    return DecodedFix(
        device_id=device_id,
        subject_id=subject_id,
        time=t,
        lon=fix.lon,
        lat=fix.lat,
        accuracy=fix.accuracy,
        source=FixSource(fix.source),
        battery=-1 if fix.battery is None else fix.battery,
        seq=-1 if fix.seq is None else fix.seq,
        received=received,
    )
