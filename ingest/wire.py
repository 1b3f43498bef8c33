"""The native v1 wire format: decode and validate at the edge into trusted fixes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, TypeVar

import msgspec
import numpy as np

from domain import EventReport, FixSource
from domain.crs import Crs
from ingest.errors import RejectedInputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device

T = TypeVar("T")

FIX_TOPIC = "cc/v1/devices/+/fix"
_TOPIC = re.compile(r"^cc/v1/devices/([A-Za-z0-9_.-]{1,64})/fix$")
_SEQ_MAX = 2**63 - 1  # stored as bigint
EXCERPT_BYTES = 1024  # of an oversized payload, kept in quarantine
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


class FixV1(msgspec.Struct, frozen=True):
    """One fix on `cc/v1/devices/{code}/fix` (JSON). Unknown fields are ignored."""

    time: datetime
    lat: float
    lon: float
    accuracy: float
    source: Literal["gnss", "wifi", "cell"]
    battery: int | None = None
    seq: int | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    mock: bool = False  # Android's Location.isMock(): the position came from a mock provider


# A message is one fix object, or an array of them (a device uploading what it buffered);
# array items are decoded one by one so one bad item does not cost the others.
_message = msgspec.json.Decoder(FixV1 | list[msgspec.Raw])
_item = msgspec.json.Decoder(FixV1)


@dataclass(frozen=True, slots=True)
class Limits:
    """How far from the receiving clock a time may be; bounds on accuracy; and what one
    message may hold, checked before it is parsed (bytes, JSON nesting) or its items are
    (a batch's length)."""

    max_future_s: float
    max_age_s: float
    max_accuracy_m: float
    max_bytes: int = 256 * 1024
    max_items: int = 2000
    max_depth: int = 8


@dataclass(frozen=True, slots=True)
class DecodedFix:
    """A validated fix of a registered, active device bound to a subject (or of a protected
    person's phone: `subject_id` is then minus the protected person's id)."""

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
    crs: Crs  # of lon / lat; the batch converts to WGS-84 in one vectorised step
    mock: bool = False


def device_code(topic: str) -> str:
    match = _TOPIC.match(topic)
    if match is None:
        raise RejectedInputError(f"topic {topic!r} is not cc/v1/devices/<code>/fix")
    return match.group(1)


def screen(payload: bytes, limits: Limits) -> None:
    """What is checked before a payload is parsed: its size, and how deep its JSON nests
    (a parser recursing 100,000 arrays deep is the attacker's, not ours)."""
    if len(payload) > limits.max_bytes:
        raise RejectedInputError(
            f"payload of {len(payload):,} bytes is over the limit of {limits.max_bytes:,};"
            f" only its first {EXCERPT_BYTES:,} bytes are kept"
        )
    # Brackets inside strings count too here: an over-estimate, exact for a device's
    # ordinary message, and at C speed; only a payload it does not clear is looked at closely.
    brackets = payload.translate(None, _NOT_BRACKETS)
    if len(brackets) <= limits.max_depth or _depth(brackets) <= limits.max_depth:
        return
    depth = nesting(payload)
    if depth > limits.max_depth:
        raise RejectedInputError(f"JSON nested {depth} deep: at most {limits.max_depth}")


def nesting(payload: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not
    count; an unterminated string's do, and such a text is no JSON anyway)."""
    return _depth(_STRING.sub(b'""', payload).translate(None, _NOT_BRACKETS))


def _depth(brackets: bytes) -> int:
    """How deep a text of brackets only nests."""
    b = np.frombuffer(brackets, dtype=np.uint8)
    step = np.where((b == ord("[")) | (b == ord("{")), 1, -1)
    return int(np.cumsum(step).max(initial=0))


def kept(payload: bytes, limits: Limits) -> bytes:
    """What quarantine keeps of a refused payload: all of it, unless it is oversized."""
    return payload if len(payload) <= limits.max_bytes else payload[:EXCERPT_BYTES]


def decode_json(decoder: msgspec.json.Decoder[T], payload: bytes, what: str) -> T:
    """Decode at the edge; a failure becomes a quarantine reason naming what was expected."""
    try:
        return decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise RejectedInputError(f"invalid {what}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise RejectedInputError(f"not JSON: {exc}") from exc


def check_time(t: float, *, received: float, limits: Limits) -> None:
    """A device's time: finite, not older than `max_age_s`, at most `max_future_s` ahead."""
    if not math.isfinite(t):
        raise RejectedInputError(f"time {t} is not a finite number")
    if t > received + limits.max_future_s:
        raise RejectedInputError(f"time {stamp(t)} is {t - received:.0f} s in the future")
    if t < received - limits.max_age_s:
        raise RejectedInputError(f"time {stamp(t)} is older than {limits.max_age_s:.0f} s")


def check_battery(battery: float | None) -> None:
    if battery is not None and not 0 <= battery <= 100:
        raise RejectedInputError(f"battery {battery} is outside 0..100")


def check_seq(seq: int | None) -> None:
    if seq is not None and not 0 <= seq <= _SEQ_MAX:
        raise RejectedInputError(f"seq {seq} is outside 0..{_SEQ_MAX}")


def check_fix(
    *,
    t: float,
    lat: float,
    lon: float,
    accuracy: float,
    battery: float | None,
    seq: int | None,
    received: float,
    limits: Limits,
) -> None:
    """The checks every fix passes, whatever format it came in. NaN fails every range."""
    if not -90.0 <= lat <= 90.0:
        raise RejectedInputError(f"lat {lat:g} is outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise RejectedInputError(f"lon {lon:g} is outside -180..180")
    if not 0.0 <= accuracy <= limits.max_accuracy_m:
        raise RejectedInputError(f"accuracy {accuracy:g} m is outside 0..{limits.max_accuracy_m:g}")
    check_time(t, received=received, limits=limits)
    check_battery(battery)
    check_seq(seq)


def stamp(t: float) -> str:
    """`t` for a reason: ISO 8601 where a date can show it, else the number (never raises)."""
    try:
        return datetime.fromtimestamp(t, UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"{t:.15g} (epoch seconds)"


def device_time(value: datetime) -> float:
    """An RFC 3339 time as epoch seconds; one without a UTC offset is refused."""
    if value.tzinfo is None:
        raise RejectedInputError("time has no UTC offset: send RFC 3339 like 2026-11-25T08:00:00Z")
    return value.timestamp()


def _check(fix: FixV1, *, received: float, limits: Limits) -> float:
    t = device_time(fix.time)
    check_fix(
        t=t,
        lat=fix.lat,
        lon=fix.lon,
        accuracy=fix.accuracy,
        battery=fix.battery,
        seq=fix.seq,
        received=received,
        limits=limits,
    )
    return t


def check_items(items: list[T], limits: Limits) -> list[T]:
    """A batch message's items, unless there are none or more than a message may hold."""
    if not items:
        raise RejectedInputError("an empty batch: send at least one item")
    if len(items) > limits.max_items:
        raise RejectedInputError(f"{len(items)} items: a message holds at most {limits.max_items}")
    return items


def bound_device(code: str, device: Device | None) -> tuple[int, int]:
    """(device id, party) of a device that may report, else the reason it may not. The
    party is its subject's id, or for a protected person's phone minus the protected
    person's id (`domain.party_key`)."""
    if device is None:
        raise RejectedInputError(f"unknown device {code!r}: not registered")
    if not device.active:
        raise RejectedInputError(f"device {code!r} is not active")
    if device.protected_person_id is not None:
        return device.id, -device.protected_person_id
    if device.subject_id is None:
        raise RejectedInputError(f"device {code!r} is not bound to a subject")
    return device.id, device.subject_id


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """One item of a batch message that was refused; the rest of the message is kept."""

    raw: bytes
    reason: str


@dataclass(slots=True)
class Decoded:
    """What one message held: fixes, device events, and refused items of a batch."""

    fixes: list[DecodedFix] = field(default_factory=list)
    events: list[EventReport] = field(default_factory=list)
    rejected: list[RejectedItem] = field(default_factory=list)


def _decoded(fix: FixV1, device: tuple[int, int], *, received: float, limits: Limits) -> DecodedFix:
    return DecodedFix(
        device_id=device[0],
        subject_id=device[1],
        time=_check(fix, received=received, limits=limits),
        lon=fix.lon,
        lat=fix.lat,
        accuracy=fix.accuracy,
        source=FixSource(fix.source),
        battery=-1 if fix.battery is None else fix.battery,
        seq=-1 if fix.seq is None else fix.seq,
        received=received,
        crs=Crs(fix.crs),
        mock=fix.mock,
    )


def decode_fixes(
    topic: str,
    payload: bytes,
    *,
    received: float,
    devices: Mapping[str, Device],
    limits: Limits,
) -> Decoded:
    """Topic + raw payload -> its fixes, and the refused items of a batch message.

    Raises RejectedInputError when the whole message is refused (topic, JSON, device, or a
    single fix that is invalid).
    """
    code = device_code(topic)
    message = decode_json(_message, payload, "v1 fix")
    device = bound_device(code, devices.get(code))
    out = Decoded()
    if isinstance(message, FixV1):
        out.fixes.append(_decoded(message, device, received=received, limits=limits))
        return out
    for i, raw in enumerate(check_items(message, limits)):
        try:
            fix = _item.decode(raw)
            out.fixes.append(_decoded(fix, device, received=received, limits=limits))
        except msgspec.ValidationError as exc:
            out.rejected.append(RejectedItem(bytes(raw), f"batch item {i}: invalid v1 fix: {exc}"))
        except RejectedInputError as exc:
            out.rejected.append(RejectedItem(bytes(raw), f"batch item {i}: {exc}"))
    return out
