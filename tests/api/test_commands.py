"""Issuing commands over the API: what is asked is checked, another office's device does not
exist, an auditor may not ask, and the change log names who asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import store
from tests.helpers import seed_subject

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool


async def test_commands_are_checked_and_recorded(
    pool: AsyncConnectionPool[Any], api: httpx.AsyncClient
) -> None:
    seeded = await seed_subject(pool, code="cmd-api")
    async with pool.connection() as conn:
        (device,) = await store.devices.list_devices(
            conn, offices=None, subject_id=seeded.subject_id
        )
    path = f"/api/v1/devices/{device.id}/commands"
    for body, said in (
        ({"kind": "set_interval"}, "interval_s and for_s"),
        ({"kind": "locate", "interval_s": 15, "for_s": 60}, "interval_s and for_s"),
        ({"kind": "teleport"}, "kind"),
        ({"kind": "check_in", "expires_in_s": 1}, "expires_in_s"),
    ):
        answer = await api.post(path, json=body)
        assert answer.status_code == 422, body
        assert said in str(answer.json()["detail"])
    made = await api.post(path, json={"kind": "set_interval", "interval_s": 15, "for_s": 600})
    assert made.status_code == 201
    command = made.json()
    assert (command["kind"], command["state"], command["issued_by"], command["params"]) == (
        "set_interval",
        "pending",
        "officer",
        {"interval_s": 15.0, "for_s": 600.0},
    )
    assert (await api.get(f"/api/v1/commands/{command['id']}")).json()["id"] == command["id"]
    subject = await api.get(f"/api/v1/subjects/{seeded.subject_id}/commands")
    assert [c["id"] for c in subject.json()] == [command["id"]]
    assert (
        await api.post("/api/v1/devices/99999999/commands", json={"kind": "locate"})
    ).status_code == 404
    async with pool.connection() as conn:
        changes = await store.changes.list_changes(conn, offices=None, target="device", limit=10)
    assert any(c.action == "command" and c.username == "officer" for c in changes)
