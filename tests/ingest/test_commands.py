"""The command wire format: native devices get the documented JSON on their command topic,
an OwnTracks phone its own reportLocation for a locate, and nothing it cannot do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import store
from ingest.commands import wire

EXPIRES = datetime(2026, 11, 26, 8, 3, tzinfo=UTC)


def _command(kind: str, owntracks: str | None = None, **params: object) -> store.commands.Outgoing:
    return store.commands.Outgoing(uuid4(), "ph-0001", owntracks, kind, dict(params), EXPIRES)


def test_a_native_device_gets_the_documented_command() -> None:
    command = _command("set_interval", interval_s=15, for_s=600)
    out = wire(command)
    assert not isinstance(out, str)
    topic, payload = out
    assert topic == "cc/v1/devices/ph-0001/cmd"
    assert json.loads(payload) == {
        "id": str(command.id),
        "kind": "set_interval",
        "params": {"interval_s": 15, "for_s": 600},
        "expires_at": "2026-11-26T08:03:00+00:00",
    }


def test_an_owntracks_phone_gets_report_location_and_nothing_else() -> None:
    out = wire(_command("locate", owntracks="wang/phone"))
    assert not isinstance(out, str)
    topic, payload = out
    assert topic == "owntracks/wang/phone/cmd"
    assert json.loads(payload) == {"_type": "cmd", "action": "reportLocation"}
    assert wire(_command("check_in", owntracks="wang/phone")) == (
        "an OwnTracks phone has no check_in command"
    )
