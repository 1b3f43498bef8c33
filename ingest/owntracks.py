"""OwnTracks, as its open-source phone apps publish it: `owntracks/{user}/{device}`.

Locations (plain or libsodium-encrypted) become fixes; `lwt` (the broker saw the app's
connection drop) becomes an `offline` device event. Other message types (`transition` on
`.../event`, waypoints, commands) are recognised and kept in quarantine with a reason.
Numbers that arrive as strings (an iOS lwt's `tst`) are accepted; absent fields mean zero,
as the apps omit zeros.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import TYPE_CHECKING

import msgspec
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from domain import DeviceEvent, EventReport, FixSource
from domain.crs import Crs
from ingest.errors import RejectedInputError
from ingest.wire import (
    Decoded,
    DecodedFix,
    RejectedItem,
    bound_device,
    check_fix,
    check_items,
    check_time,
    decode_json,
    screen,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device
    from ingest.wire import Limits

OWNTRACKS_TOPICS = ("owntracks/+/+", "owntracks/+/+/event")
_TOPIC = re.compile(r"^owntracks/([^/]+)/([^/]+)(/event)?$")
Number = float | int | str


class _Kind(msgspec.Struct):
    type: str = msgspec.field(name="_type")


class _Location(msgspec.Struct):
    tst: Number
    lat: Number
    lon: Number
    acc: Number = 0
    batt: Number | None = None


class _Encrypted(msgspec.Struct):
    data: str


class _Lwt(msgspec.Struct):
    tst: Number


_message = msgspec.json.Decoder(_Kind | list[msgspec.Raw])
_kind = msgspec.json.Decoder(_Kind)
_location = msgspec.json.Decoder(_Location)
_encrypted = msgspec.json.Decoder(_Encrypted)
_lwt = msgspec.json.Decoder(_Lwt)


def owntracks_device(topic: str) -> str:
    """`user/device` of an OwnTracks topic: how its device is registered."""
    match = _TOPIC.match(topic)
    if match is None:
        raise RejectedInputError(f"topic {topic!r} is not owntracks/<user>/<device>")
    return f"{match.group(1)}/{match.group(2)}"


def secret_box(passphrase: str) -> SecretBox:
    """The apps' key: the passphrase's UTF-8 bytes, zero-padded (or cut) to 32 bytes."""
    return SecretBox(passphrase.encode()[: SecretBox.KEY_SIZE].ljust(SecretBox.KEY_SIZE, b"\0"))


def _number(value: Number, name: str) -> float:
    """A finite number, from a JSON number or a string holding one."""
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise RejectedInputError(f"{name} {value!r:.40} is not a number") from None
    if not math.isfinite(number):
        raise RejectedInputError(f"{name} {value!r:.40} is not a finite number")
    return number


def _source(accuracy: float) -> FixSource:
    """OwnTracks does not say how a position was found; its accuracy does, roughly."""
    if accuracy <= 100:
        return FixSource.GNSS
    return FixSource.WIFI if accuracy <= 1000 else FixSource.CELL


def _decrypt(raw: bytes, device: Device) -> bytes:
    if device.owntracks_key is None:
        raise RejectedInputError("encrypted message, but no key is registered for the device")
    try:
        data = base64.b64decode(_encrypted.decode(raw).data, validate=True)
        return secret_box(device.owntracks_key).decrypt(data)
    except (msgspec.ValidationError, binascii.Error, CryptoError, ValueError) as exc:
        raise RejectedInputError(f"cannot decrypt: {exc or type(exc).__name__}") from exc


def _one(
    raw: bytes,
    device: Device,
    ids: tuple[int, int],
    out: Decoded,
    *,
    received: float,
    limits: Limits,
) -> None:
    kind = _kind.decode(raw).type
    if kind == "encrypted":
        raw = _decrypt(raw, device)
        screen(raw, limits)
        kind = _kind.decode(raw).type
    if kind == "lwt":
        t = _number(_lwt.decode(raw).tst, "tst")
        check_time(t, received=received, limits=limits)
        out.events.append(EventReport(ids[0], ids[1], t, DeviceEvent.OFFLINE, None, None, received))
        return
    if kind != "location":
        raise RejectedInputError(f"OwnTracks {kind!r:.40} message kept: only locations are handled")
    loc = _location.decode(raw)
    t = _number(loc.tst, "tst")
    lat, lon, acc = _number(loc.lat, "lat"), _number(loc.lon, "lon"), _number(loc.acc, "acc")
    battery = None if loc.batt is None else _number(loc.batt, "batt")
    check_fix(
        t=t,
        lat=lat,
        lon=lon,
        accuracy=acc,
        battery=battery,
        seq=None,
        received=received,
        limits=limits,
    )
    out.fixes.append(
        DecodedFix(
            device_id=ids[0],
            subject_id=ids[1],
            time=t,
            lon=lon,
            lat=lat,
            accuracy=acc,
            source=_source(acc),
            battery=-1 if battery is None else int(battery),
            seq=-1,
            received=received,
            crs=Crs.WGS84,
        )
    )


def decode_owntracks(
    topic: str,
    payload: bytes,
    *,
    received: float,
    devices: Mapping[str, Device],
    limits: Limits,
) -> Decoded:
    """Topic + raw payload -> fixes and events, and the refused items of an array message.

    `devices` maps `user/device` to the registered device. Raises RejectedInputError when
    the whole message is refused.
    """
    name = owntracks_device(topic)
    device = devices.get(name)
    ids = bound_device(name, device)
    assert device is not None
    message = decode_json(_message, payload, "OwnTracks message")
    out = Decoded()
    if not isinstance(message, list):
        try:
            _one(payload, device, ids, out, received=received, limits=limits)
        except msgspec.DecodeError as exc:  # a ValidationError is one too
            raise RejectedInputError(f"invalid OwnTracks message: {exc}") from exc
        return out
    for i, raw in enumerate(check_items(message, limits)):
        try:
            _one(bytes(raw), device, ids, out, received=received, limits=limits)
        except msgspec.DecodeError as exc:
            out.rejected.append(
                RejectedItem(bytes(raw), f"item {i}: invalid OwnTracks message: {exc}")
            )
        except RejectedInputError as exc:
            out.rejected.append(RejectedItem(bytes(raw), f"item {i}: {exc}"))
    return out
