"""Decoding the native v1 fix: good payloads become fixes, bad ones get a reason to act on."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from domain import Device, DeviceKind, FixSource
from domain.crs import Crs, gcj02_to_bd09, wgs84_to_gcj02
from ingest import Limits, RejectedInputError, decode_fixes
from ingest.batch import to_batch

NOW = time.time()
LIMITS = Limits(max_future_s=300, max_age_s=86400, max_accuracy_m=50_000)
DEVICES = {
    "ph-1": Device(id=1, code="ph-1", kind=DeviceKind.PHONE, subject_id=7, active=True),
    "ph-off": Device(id=2, code="ph-off", kind=DeviceKind.PHONE, subject_id=7, active=False),
    "ph-spare": Device(id=3, code="ph-spare", kind=DeviceKind.PHONE, subject_id=None, active=True),
}


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"


def payload(**changes: Any) -> bytes:
    body: dict[str, Any] = {
        "time": iso(NOW - 10),
        "lat": 30.66,
        "lon": 104.06,
        "accuracy": 8.5,
        "source": "gnss",
        "battery": 87,
        "seq": 1042,
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def decode(body: bytes, topic: str = "cc/v1/devices/ph-1/fix") -> Any:
    got = decode_fixes(topic, body, received=NOW, devices=DEVICES, limits=LIMITS)
    assert len(got.fixes) == 1
    assert got.rejected == []
    return got.fixes[0]


def test_a_good_fix_decodes() -> None:
    fix = decode(payload())
    assert (fix.device_id, fix.subject_id, fix.lon, fix.lat) == (1, 7, 104.06, 30.66)
    assert fix.source is FixSource.GNSS
    assert (fix.battery, fix.seq, fix.accuracy) == (87, 1042, 8.5)
    assert fix.time == pytest.approx(NOW - 10, abs=1)


def test_optional_fields_may_be_absent_and_unknown_fields_are_ignored() -> None:
    fix = decode(payload(battery=..., seq=..., heading=90))
    assert (fix.battery, fix.seq) == (-1, -1)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"time": ', "not JSON"),
        (b'"a string"', "invalid v1 fix: Expected `object | array`, got `str`"),
        (payload(lat=...), "invalid v1 fix: Object missing required field `lat`"),
        (payload(lat="30.6"), "invalid v1 fix: Expected `float`, got `str` - at `$.lat`"),
        (payload(source="bluetooth"), "invalid v1 fix: Invalid enum value 'bluetooth'"),
        (payload(time="2026-11-25T08:00:00"), "time has no UTC offset"),
        (payload(lat=91.0), "lat 91 is outside -90..90"),
        (payload(lon=-180.5), "lon -180.5 is outside -180..180"),
        (
            b'{"time":"%s","lat":1e999,"lon":1,"accuracy":1,"source":"gnss"}' % iso(NOW).encode(),
            "invalid v1 fix: Number out of range - at `$.lat`",
        ),
        (payload(accuracy=-1), "accuracy -1 m is outside 0..50000"),
        (payload(time=iso(NOW + 3600)), "s in the future"),
        (payload(time=iso(NOW - 2 * 86400)), "is older than 86400 s"),
        (payload(battery=140), "battery 140 is outside 0..100"),
        (payload(seq=-3), "seq -3 is outside 0..9223372036854775807"),
        (payload(seq=2**64 - 1), "seq 18446744073709551615 is outside 0..9223372036854775807"),
        (payload(time="9999-12-31T23:59:59-14:00"), "(epoch seconds) is"),
        (payload(time="0001-01-01T00:00:00+14:00"), "(epoch seconds) is older than"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(RejectedInputError) as err:
        decode(body)
    assert reason in str(err.value)


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("cc/v1/devices/nobody/fix", "unknown device 'nobody': not registered"),
        ("cc/v1/devices/ph-off/fix", "device 'ph-off' is not active"),
        ("cc/v1/devices/ph-spare/fix", "device 'ph-spare' is not bound to a subject"),
        ("cc/v1/devices/a b/fix", "is not cc/v1/devices/<code>/fix"),
    ],
)
def test_devices_that_may_not_report_are_rejected(topic: str, reason: str) -> None:
    with pytest.raises(RejectedInputError, match=reason):
        decode(payload(), topic=topic)


def test_a_batch_keeps_its_good_items_and_refuses_the_bad_ones_one_by_one() -> None:
    good = json.loads(payload())
    body = json.dumps([good, {**good, "lat": 91}, {**good, "seq": 1043}, 7]).encode()
    got = decode_fixes("cc/v1/devices/ph-1/fix", body, received=NOW, devices=DEVICES, limits=LIMITS)
    fixes, rejected = got.fixes, got.rejected
    assert [f.seq for f in fixes] == [1042, 1043]
    assert [r.reason for r in rejected] == [
        "batch item 1: lat 91 is outside -90..90",
        "batch item 3: invalid v1 fix: Expected `object`, got `int`",
    ]
    assert json.loads(rejected[0].raw)["lat"] == 91


def test_a_batch_from_an_unknown_device_is_refused_whole() -> None:
    with pytest.raises(RejectedInputError, match="unknown device 'nobody'"):
        decode_fixes(
            "cc/v1/devices/nobody/fix", b"[]", received=NOW, devices=DEVICES, limits=LIMITS
        )


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_chinese_map_coordinates_are_converted_to_wgs84(crs: str) -> None:
    """A phone SDK reports Tiananmen in GCJ-02 (or BD-09); ccmon stores WGS-84."""
    glon, glat = wgs84_to_gcj02(116.397428, 39.90923)
    lon, lat = (glon, glat) if crs == "gcj02" else gcj02_to_bd09(glon, glat)
    fix = decode(payload(lon=float(lon), lat=float(lat), crs=crs))
    assert fix.crs is Crs(crs)
    batch = to_batch([fix])
    assert batch.lon[0] == pytest.approx(116.397428, abs=2e-6)
    assert batch.lat[0] == pytest.approx(39.90923, abs=2e-6)
