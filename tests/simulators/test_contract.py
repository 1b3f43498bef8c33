"""The simulator speaks the documented wire format: every payload validates against the
JSON Schema shipped with ingest, and ingest decodes it to the position the simulator meant."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from importlib import resources

import jsonschema
import numpy as np
import pytest
from referencing import Registry, Resource

from domain import Device, DeviceEvent, DeviceKind
from ingest import Limits, decode_fixes
from ingest.batch import to_batch
from simulators import City, device_fix, event_payload, generate_city
from simulators.movement import whereabouts


def schema(name: str) -> dict[str, object]:
    text = (resources.files("ingest") / "schemas" / name).read_text(encoding="utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def city_round(city: City, *, t: float, seq: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """One fix from every device of the city that gets one, as each device sends it."""
    now = datetime.now(UTC)
    fixes = [
        (f"cc/v1/devices/{d.code}/fix", device_fix(city, i, d, t=t, when=now, seq=seq, rng=rng))
        for i, s in enumerate(city.subjects)
        for d in s.devices
    ]
    return [(topic, fix) for topic, fix in fixes if fix is not None]


@pytest.fixture(scope="module")
def validators() -> tuple[jsonschema.Draft202012Validator, jsonschema.Draft202012Validator]:
    fix = schema("fix.v1.schema.json")
    registry = Registry().with_resource("fix.v1.schema.json", Resource.from_contents(fix))
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return (
        jsonschema.Draft202012Validator(fix, format_checker=checker),
        jsonschema.Draft202012Validator(
            schema("fix-batch.v1.schema.json"), registry=registry, format_checker=checker
        ),
    )


def test_every_simulated_payload_validates_against_the_schema(validators) -> None:
    single, many = validators
    city = generate_city(3)
    rng = random.Random(3)
    messages = [m for r in range(3) for m in city_round(city, t=r * 5.0, seq=r, rng=rng)]
    assert len(messages) > 2 * 60  # wristbands indoors get no fix most of the time
    bodies = [json.loads(payload) for _, payload in messages]
    for body in bodies:
        single.validate(body)
    many.validate(bodies[:10])
    assert {b.get("crs", "wgs84") for b in bodies} == {"gcj02", "wgs84"}


def test_simulated_status_events_validate_against_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(
        schema("status.v1.schema.json"),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    for event in DeviceEvent:
        payload = event_payload(when=datetime.now(UTC), event=event.value, battery=50, seq=1)
        validator.validate(json.loads(payload))
    enum = schema("status.v1.schema.json")["properties"]["event"]["enum"]  # type: ignore[index]
    assert enum == [e.value for e in DeviceEvent]


def test_the_schema_refuses_what_ingest_refuses(validators) -> None:
    single, _ = validators
    good = {
        "time": "2026-11-25T08:00:00Z",
        "lat": 30.6,
        "lon": 104.0,
        "accuracy": 5,
        "source": "gnss",
    }
    single.validate(good)
    for bad in (
        {**good, "time": "2026-11-25T08:00:00"},
        {**good, "lat": 91},
        {**good, "source": "bluetooth"},
        {**good, "crs": "utm"},
        {k: v for k, v in good.items() if k != "accuracy"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            single.validate(bad)


def test_phone_and_wristband_of_one_person_land_on_the_same_spot() -> None:
    """The phone reports GCJ-02, the wristband WGS-84, ~500 m apart as sent; after ingest
    they agree to within the simulated GNSS noise."""
    city = generate_city(5)
    strict = city.subjects[0]
    codes = [d.code for d in strict.devices]
    devices = {
        c: Device(id=i, code=c, kind=DeviceKind.PHONE, subject_id=1, active=True)
        for i, c in enumerate(codes)
    }
    limits = Limits(max_future_s=300, max_age_s=86400, max_accuracy_m=50_000)
    on_the_road = 730.0  # the first subject drives to work: both devices outdoors
    messages = city_round(city, t=on_the_road, seq=1, rng=random.Random(5))
    ours = [(t, p) for t, p in messages if t.split("/")[3] in codes]
    fixes = [
        f
        for t, p in ours
        for f in decode_fixes(t, p, received=time.time(), devices=devices, limits=limits).fixes
    ]
    batch = to_batch(fixes)
    place = whereabouts(city, strict, 0, on_the_road)
    assert not place.indoors
    truth = place.position
    k = 111_195.0
    east = (batch.lon - truth[0]) * k * np.cos(np.radians(truth[1]))
    north = (batch.lat - truth[1]) * k
    assert np.hypot(east, north).max() < 40
    sent = [json.loads(p) for _, p in ours]
    assert abs(sent[0]["lon"] - sent[1]["lon"]) * k * np.cos(np.radians(truth[1])) > 100
