"""OwnTracks payloads, the real ones its apps publish and the awkward ones."""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

import nacl.utils
import pytest

from domain import Device, DeviceEvent, DeviceKind, FixSource
from ingest import Limits, RejectedInputError
from ingest.owntracks import decode_owntracks, secret_box

if TYPE_CHECKING:
    from pathlib import Path

NOW = time.time()
# The real payloads are years old: accept any age here, as a replay tool would.
LIMITS = Limits(max_future_s=300, max_age_s=20 * 365 * 86400, max_accuracy_m=50_000)
PHONE = Device(
    id=4,
    code="ot-alice",
    kind=DeviceKind.PHONE,
    subject_id=9,
    active=True,
    owntracks_topic="alice/phone",
    owntracks_key="123",
)
DEVICES = {"alice/phone": PHONE}


def decode(payload: bytes, topic: str = "owntracks/alice/phone") -> Any:
    """(fixes, refused items) of one message."""
    got = decode_owntracks(topic, payload, received=NOW, devices=DEVICES, limits=LIMITS)
    return got.fixes, got.rejected


def real(realdata: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(
        (realdata / "owntracks" / "owntracks_payloads.json").read_text(encoding="utf-8")
    )
    return entries


def test_every_real_location_becomes_a_fix(realdata: Path) -> None:
    for entry in real(realdata):
        if entry["_type"] != "location":
            continue
        body = json.loads(entry["raw"])
        fixes, rejected = decode(entry["raw"].encode())
        assert rejected == []
        (fix,) = fixes
        assert (fix.lat, fix.lon, fix.time) == (body["lat"], body["lon"], body["tst"])
        assert fix.accuracy == body.get("acc", 0)
        assert (fix.device_id, fix.subject_id) == (4, 9)


def test_the_real_encrypted_payload_decrypts_with_its_key(realdata: Path) -> None:
    (entry,) = [e for e in real(realdata) if e["_type"] == "encrypted"]
    (fix,), _ = decode(entry["raw"].encode())
    assert (fix.lat, fix.lon, fix.time, fix.battery) == (50.1182933, -5.5407733, 1754215100, 100)


def test_the_real_array_of_locations_gives_both(realdata: Path) -> None:
    (entry,) = [e for e in real(realdata) if e["_type"] == "array:location"]
    fixes, rejected = decode(entry["raw"].encode())
    assert [f.lat for f in fixes] == [52.3153748, 12.3153748]
    assert rejected == []


def test_the_real_lwt_is_an_offline_event_even_with_a_string_tst(realdata: Path) -> None:
    entry = next(e for e in real(realdata) if e["_type"] == "lwt")
    got = decode_owntracks(
        "owntracks/alice/phone",
        entry["raw"].encode(),
        received=NOW,
        devices=DEVICES,
        limits=LIMITS,
    )
    assert got.fixes == []
    (event,) = got.events
    assert (event.event, event.time, event.device_id) == (DeviceEvent.OFFLINE, 1440363922, 4)


@pytest.mark.parametrize("kind", ["transition", "waypoint", "waypoints", "cmd"])
def test_real_messages_that_are_not_locations_are_kept_with_a_reason(
    realdata: Path, kind: str
) -> None:
    entry = next(e for e in real(realdata) if e["_type"] == kind)
    with pytest.raises(RejectedInputError, match=f"OwnTracks '{kind}' message kept"):
        decode(entry["raw"].encode())


def test_numbers_may_arrive_as_strings_and_zeros_may_be_absent() -> None:
    (fix,), _ = decode(b'{"_type":"location","tst":"1764000000","lat":"30.5","lon":"104.1"}')
    assert (fix.time, fix.lat, fix.lon, fix.accuracy, fix.battery) == (
        1764000000,
        30.5,
        104.1,
        0,
        -1,
    )
    assert fix.source is FixSource.GNSS


def test_the_accuracy_stands_in_for_the_unreported_source() -> None:
    body = {"_type": "location", "tst": 1764000000, "lat": 30.5, "lon": 104.1}
    sources = [decode(json.dumps({**body, "acc": a}).encode())[0][0].source for a in (8, 300, 3000)]
    assert sources == [FixSource.GNSS, FixSource.WIFI, FixSource.CELL]


def encrypt(body: dict[str, object], passphrase: str) -> bytes:
    box = secret_box(passphrase)
    sealed = box.encrypt(json.dumps(body).encode(), nacl.utils.random(box.NONCE_SIZE))
    return json.dumps({"_type": "encrypted", "data": base64.b64encode(sealed).decode()}).encode()


def test_a_wrong_key_is_refused_with_a_reason() -> None:
    body = {"_type": "location", "tst": 1764000000, "lat": 30.5, "lon": 104.1}
    assert decode(encrypt(body, "123"))[0][0].lat == 30.5
    with pytest.raises(RejectedInputError, match="cannot decrypt"):
        decode(encrypt(body, "not the key"))


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("owntracks/bob/phone", b"{}", "unknown device 'bob/phone'"),
        ("owntracks/alice", b"{}", "is not owntracks/<user>/<device>"),
        ("owntracks/alice/phone", b"{not json", "not JSON"),
        ("owntracks/alice/phone", b'{"_type":"location","lat":1}', "missing required field `tst`"),
        (
            "owntracks/alice/phone",
            b'{"_type":"location","tst":"soon","lat":1,"lon":2}',
            "tst 'soon' is not a number",
        ),
        (
            "owntracks/alice/phone",
            b'{"_type":"location","tst":1764000000,"lat":95,"lon":2}',
            "lat 95 is outside",
        ),
    ],
)
def test_bad_owntracks_input_is_refused_with_a_reason(
    topic: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(RejectedInputError, match=reason):
        decode(payload, topic)
