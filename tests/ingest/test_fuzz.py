"""Every decoder fuzzed: generated payloads of every shape and extreme value (huge, negative,
NaN and infinite numbers, numbers as strings, wrong types, deep nesting, invalid UTF-8,
empty, arrays of arrays, valid messages with one field made hostile) on every topic kind,
OwnTracks encrypted ones included. Whatever arrives, a message becomes sane fixes, sane
events or rejections with a reason the store can keep, never an exception and never nothing.

Examples per test: CCMON_FUZZ_EXAMPLES (default 1,500; seven tests)."""

from __future__ import annotations

import base64
import json
import math
import os
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import Device, DeviceKind
from ingest import Limits, Message, RejectedInputError, decode_message
from ingest.batch import to_batch
from ingest.commands import decode_result
from ingest.owntracks import secret_box
from ingest.wire import EXCERPT_BYTES
from store.quarantine import storable

EXAMPLES = int(os.environ.get("CCMON_FUZZ_EXAMPLES", "1500"))
fuzzing = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NOW = time.time()
LIMITS = Limits(max_future_s=300, max_age_s=86400, max_accuracy_m=50_000, max_bytes=64 * 1024)
KEY = "fuzzing key"
PHONE = Device(id=1, code="ph-1", kind=DeviceKind.PHONE, subject_id=7, active=True)
BAND = Device(id=2, code="wb-1", kind=DeviceKind.WRISTBAND, subject_id=7, active=True)
OWNTRACKS = Device(
    id=3,
    code="ot-1",
    kind=DeviceKind.PHONE,
    subject_id=7,
    active=True,
    owntracks_topic="alice/phone",
    owntracks_key=KEY,
)
DEVICES = {d.code: d for d in (PHONE, BAND)}
OWNTRACKS_DEVICES = {"alice/phone": OWNTRACKS}
TOPICS = (
    "cc/v1/devices/ph-1/fix",
    "cc/v1/devices/wb-1/fix",
    "cc/v1/devices/wb-1/status",
    "owntracks/alice/phone",
    "owntracks/alice/phone/event",
)

# -- values -----------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e300, -1e300, 2**63, 2**64 - 1, 5e-324, 253402300799.0]),
)
strings = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "nan",
            "NaN",
            "inf",
            "-Infinity",
            "1e999",
            "1e300",
            "9" * 5000,
            "\x00",
            "\ud800",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-13-45T99:99:99Z",
            "location",
            "lwt",
            "encrypted",
            "gnss",
            "gcj02",
            "strap_cut",
        ]
    ),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=20,
)


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"


def good_fix() -> dict[str, Any]:
    return {
        "time": iso(NOW - 5),
        "lat": 30.6,
        "lon": 104.0,
        "accuracy": 8.0,
        "source": "gnss",
        "battery": 80,
        "seq": 3,
        "crs": "gcj02",
        "mock": False,
    }


def good_status() -> dict[str, Any]:
    return {"time": iso(NOW - 5), "event": "strap_cut", "battery": 50, "seq": 1}


def good_location() -> dict[str, Any]:
    return {"_type": "location", "tst": int(NOW - 5), "lat": 30.6, "lon": 104.0, "acc": 9}


def good_lwt() -> dict[str, Any]:
    return {"_type": "lwt", "tst": int(NOW - 5)}


@st.composite
def hostile_object(draw: st.DrawFn) -> Any:
    """A valid message of some kind with fields replaced, removed or added."""
    body = draw(st.sampled_from([good_fix, good_status, good_location, good_lwt]))()
    for key in draw(st.lists(st.sampled_from([*sorted(body), "_type", "tst", "batt"]))):
        if draw(st.booleans()):
            body[key] = draw(json_values)
        else:
            body.pop(key, None)
    return body


def dumps(value: Any) -> bytes:
    """JSON as a careless or hostile device writes it: NaN and Infinity bare, surrogates
    raw (so the bytes are invalid UTF-8)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(min_value=1, max_value=60_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}"), (b'[{"b":', b"}]")]))
    closed = draw(st.booleans())
    return opener * n + (b"1" + closer * n if closed else b"")


@st.composite
def broken_utf8(draw: st.DrawFn) -> bytes:
    body = dumps(draw(st.one_of(hostile_object(), json_values)))
    at = draw(st.integers(min_value=0, max_value=len(body)))
    bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xf4\x90\x80\x80"]))
    return body[:at] + bad + body[at:]


payloads = st.one_of(
    hostile_object().map(dumps),
    st.lists(hostile_object(), max_size=6).map(dumps),
    json_values.map(dumps),
    st.lists(st.lists(json_values, max_size=3), max_size=3).map(dumps),
    st.binary(max_size=200),
    st.sampled_from([b"", b"[]", b"{}", b"null", b"[[]]", b"[{}]", b" ", b"\xef\xbb\xbf{}"]),
    deep(),
    broken_utf8(),
    st.integers(min_value=LIMITS.max_bytes - 10, max_value=LIMITS.max_bytes + 10).map(
        lambda n: b"[" + b" " * (n - 2) + b"]"
    ),
)


def encrypted(plaintext: bytes) -> bytes:
    sealed = secret_box(KEY).encrypt(plaintext)
    return json.dumps({"_type": "encrypted", "data": base64.b64encode(sealed).decode()}).encode()


# -- what every outcome must be -------------------------------------------------------------


def judged(topic: str, payload: bytes) -> None:
    got = decode_message(
        Message(topic, payload, NOW), devices=DEVICES, owntracks=OWNTRACKS_DEVICES, limits=LIMITS
    )
    assert got.fixes or got.events or got.rejected, "a message vanished"
    for f in got.fixes:
        assert -90 <= f.lat <= 90
        assert -180 <= f.lon <= 180
        assert 0 <= f.accuracy <= LIMITS.max_accuracy_m
        assert NOW - LIMITS.max_age_s <= f.time <= NOW + LIMITS.max_future_s
        assert f.battery == -1 or 0 <= f.battery <= 100
        assert -1 <= f.seq < 2**63
        assert isinstance(f.mock, bool)
    for e in got.events:
        assert NOW - LIMITS.max_age_s <= e.time <= NOW + LIMITS.max_future_s
        assert e.battery is None or 0 <= e.battery <= 100
        assert e.seq is None or 0 <= e.seq < 2**63
    for r in got.rejected:
        assert r.reason, "a rejection without a reason"
        storable(r.reason).encode("utf-8")
        assert len(r.raw) <= LIMITS.max_bytes
        if len(payload) > LIMITS.max_bytes:
            assert len(r.raw) == EXCERPT_BYTES
            assert "over the limit" in r.reason
    batch = to_batch(got.fixes)  # the hot path takes whatever the decoders let through
    assert all(math.isfinite(x) for x in batch.lon.tolist() + batch.lat.tolist())


@fuzzing
@given(topic=st.sampled_from(TOPICS), payload=payloads)
def test_any_payload_on_any_topic_is_judged_on_its_own(topic: str, payload: bytes) -> None:
    judged(topic, payload)


@fuzzing
@given(plaintext=payloads)
def test_any_encrypted_plaintext_is_judged_on_its_own(plaintext: bytes) -> None:
    judged("owntracks/alice/phone", encrypted(plaintext))


@fuzzing
@given(
    topic=st.one_of(st.text(max_size=80), st.sampled_from(TOPICS).map(lambda t: t + "/x")),
    payload=hostile_object().map(dumps),
)
def test_any_topic_is_judged_on_its_own(topic: str, payload: bytes) -> None:
    judged(topic, payload)


@fuzzing
@given(body=st.lists(hostile_object(), min_size=1, max_size=8))
def test_a_batch_item_is_judged_apart_from_the_others(body: list[Any]) -> None:
    """Each item of a batch message gets its own fix or its own rejection."""
    got = decode_message(
        Message("cc/v1/devices/ph-1/fix", dumps(body), NOW),
        devices=DEVICES,
        owntracks=OWNTRACKS_DEVICES,
        limits=LIMITS,
    )
    assert len(got.fixes) + len(got.rejected) in (1, len(body))  # whole message, or per item


@fuzzing
@given(
    result=st.fixed_dictionaries(
        {"id": st.one_of(st.uuids().map(str), strings), "status": strings},
        optional={"answer": json_values, "error": st.one_of(strings, json_values)},
    ).map(dumps)
    | payloads
)
def test_a_command_result_is_a_result_or_a_reason(result: bytes) -> None:
    try:
        got = decode_result(result, limits=LIMITS)
    except RejectedInputError as exc:
        reason = str(exc)
        assert reason
        return
    # What the store will be given: JSON without NaN or infinities, text without NUL.
    json.dumps(got.answer, allow_nan=False)
    assert got.error is None or "\x00" not in got.error


def test_the_cases_that_stopped_ingest_are_reasons_now() -> None:
    """The messages reported to stop or blind ingest, each refused with its reason."""
    for topic, payload, reason in [
        (
            "cc/v1/devices/wb-1/status",
            b'{"time":"9999-12-31T23:59:59-14:00","event":"power_on"}',
            "s in the future",
        ),
        ("owntracks/alice/phone", dumps({**good_location(), "tst": 1e300}), "in the future"),
        ("owntracks/alice/phone", dumps({**good_location(), "batt": "nan"}), "not a finite"),
        ("owntracks/alice/phone", dumps({**good_lwt(), "tst": 1e300}), "in the future"),
        ("owntracks/alice/phone", encrypted(b"not json"), "invalid OwnTracks message"),
        ("cc/v1/devices/ph-1/fix", b"[" * 60_000, "JSON nested 60000 deep"),
        ("cc/v1/devices/ph-1/fix", b"[]", "an empty batch"),
        ("cc/v1/devices/ph-1/fix", dumps([{}] * 2001), "at most 2000"),
        ("cc/v1/devices/ph-1/fix", dumps({**good_fix(), "seq": 2**64 - 1}), "seq 1844"),
    ]:
        got = decode_message(
            Message(topic, payload, NOW),
            devices=DEVICES,
            owntracks=OWNTRACKS_DEVICES,
            limits=LIMITS,
        )
        assert (got.fixes, got.events) == ([], [])
        ((raw, got_reason),) = [(r.raw, r.reason) for r in got.rejected]
        assert reason in got_reason, got_reason
        assert raw == payload


def test_an_oversized_payload_keeps_its_size_and_first_bytes_only() -> None:
    payload = b"[" + b" " * LIMITS.max_bytes + b"]"
    got = decode_message(
        Message("cc/v1/devices/ph-1/fix", payload, NOW),
        devices=DEVICES,
        owntracks=OWNTRACKS_DEVICES,
        limits=LIMITS,
    )
    (rejected,) = got.rejected
    assert rejected.raw == payload[:EXCERPT_BYTES]
    assert f"payload of {len(payload):,} bytes is over the limit of 65,536" in rejected.reason
