"""A corpus of hostile device messages, each refused as a whole by construction: every field
of a valid message made wrong in every way a device (or an attacker with a device account)
can, the raw shapes no parser should choke on, and the messages reported to stop or blind
ingest. The property-based fuzzing in tests/ingest/test_fuzz.py explores further; this
corpus is what a running `ccmon serve` is fed."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from ingest.owntracks import secret_box

# Every value here is outside its field's domain (type, range, or finite number).
_BAD_FIX_FIELDS: dict[str, list[Any]] = {
    "time": [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00Z",
        "2026-11-25T08:00:00",
        "yesterday",
        "",
        1e300,
        None,
    ],
    "lat": [91, -90.0001, -1e300, "30.6", None, [], {}, True],
    "lon": [180.5, -181, "nan", 1e308, [104.0]],
    "accuracy": [-1, 1e9, "8", None],
    "source": ["bluetooth", 7, None, ""],
    "battery": [101, -1, 2**64, "80", 1.5],
    "seq": [-1, 2**64 - 1, 2**63, "3", 0.5],
    "crs": ["epsg:4326", 0, None],
}
_RAW = [
    b"",
    b"{",
    b"\xff\xfe\x00",
    b"null",
    b"[]",
    b"[[[]]]",
    b'"a string"',
    b"[" * 50_000,
    b'{"a":' * 20_000,
    b'{"time": NaN, "lat": NaN, "lon": Infinity, "accuracy": -Infinity, "source": "gnss"}',
]


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"


def _good_fix(now: float) -> dict[str, Any]:
    return {"time": _iso(now - 5), "lat": 30.6, "lon": 104.0, "accuracy": 8.0, "source": "gnss"}


def _encrypted(plaintext: bytes, key: str) -> bytes:
    data = base64.b64encode(secret_box(key).encrypt(plaintext)).decode()
    return json.dumps({"_type": "encrypted", "data": data}).encode()


def hostile_corpus(*, device: str, owntracks: str, key: str, now: float) -> list[tuple[str, bytes]]:
    """(topic, payload) pairs for the native device `device` and the OwnTracks phone
    `owntracks` (`user/device`, its key `key`), each a message ingest must refuse."""
    fix_topic = f"cc/v1/devices/{device}/fix"
    status_topic = f"cc/v1/devices/{device}/status"
    ot_topic = f"owntracks/{owntracks}"
    out: list[tuple[str, bytes]] = []
    for name, values in _BAD_FIX_FIELDS.items():
        out += [(fix_topic, json.dumps({**_good_fix(now), name: v}).encode()) for v in values]
    for required in _good_fix(now):
        missing = {k: v for k, v in _good_fix(now).items() if k != required}
        out.append((fix_topic, json.dumps(missing).encode()))
    out += [(fix_topic, raw) for raw in _RAW]
    out += [(status_topic, raw) for raw in _RAW]
    out += [
        (status_topic, b'{"time":"9999-12-31T23:59:59-14:00","event":"power_on"}'),
        (status_topic, json.dumps({"time": _iso(now), "event": "exploded"}).encode()),
        (status_topic, json.dumps({"time": _iso(now), "event": "sos", "battery": "x"}).encode()),
        (status_topic, json.dumps({"time": _iso(now - 30 * 86400), "event": "sos"}).encode()),
        ("cc/v1/devices/nobody-registered/fix", json.dumps(_good_fix(now)).encode()),
    ]
    location = {"_type": "location", "tst": int(now - 5), "lat": 30.6, "lon": 104.0, "acc": 9}
    for change in (
        {"tst": 1e300},
        {"tst": "nan"},
        {"tst": -1e300},
        {"batt": "nan"},
        {"batt": 1e300},
        {"lat": "inf"},
        {"acc": "-Infinity"},
        {"lon": "1e999"},
        {"tst": "9" * 5000},
    ):
        out.append((ot_topic, json.dumps({**location, **change}).encode()))
    out += [
        (ot_topic, json.dumps({"_type": "lwt", "tst": 1e300}).encode()),
        (ot_topic, json.dumps({"_type": "lwt", "tst": "nan"}).encode()),
        (ot_topic, _encrypted(b"not json at all", key)),
        (ot_topic, _encrypted(b"[" * 40_000, key)),
        (ot_topic, _encrypted(json.dumps({**location, "tst": 1e300}).encode(), key)),
        (ot_topic, _encrypted(json.dumps(location).encode(), key + " but wrong")),
        (ot_topic, json.dumps({"_type": "encrypted", "data": "not base64!"}).encode()),
        (ot_topic, json.dumps({"_type": "waypoint", "desc": "home"}).encode()),
    ]
    out += [(ot_topic, raw) for raw in _RAW]
    return out
