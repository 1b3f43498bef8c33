"""Webhook subscriptions and deliveries over the API: created with a secret shown once,
listed without it, stopped; bad requests answered with what is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


async def test_a_subscription_shows_its_secret_once(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/api/v1/webhooks",
        json={"url": "https://cases.example.org/ccmon", "kinds": ["tamper", "sos"]},
    )
    assert created.status_code == 201
    body = created.json()
    assert len(body["secret"]) >= 32
    sub = body["subscription"]
    assert (sub["kinds"], sub["min_severity"], sub["active"], sub["created_by"]) == (
        ["tamper", "sos"],
        "normal",
        True,
        "officer",
    )
    listed = (await api.get("/api/v1/webhooks")).json()
    assert [s["id"] for s in listed] == [sub["id"]]
    assert "secret" not in listed[0]
    assert (await api.delete(f"/api/v1/webhooks/{sub['id']}")).status_code == 204
    assert (await api.get("/api/v1/webhooks")).json()[0]["active"] is False
    assert (await api.delete("/api/v1/webhooks/999999")).status_code == 404


async def test_bad_subscriptions_say_what_is_wrong(api: httpx.AsyncClient) -> None:
    for payload, where in (
        ({"url": "ftp://x"}, "url"),
        ({"url": "https://x.example", "secret": "short"}, "secret"),
        ({"url": "https://x.example", "kinds": ["teleport"]}, "kinds"),
        ({"url": "https://x.example", "min_severity": "urgent"}, "min_severity"),
    ):
        answer = await api.post("/api/v1/webhooks", json=payload)
        assert answer.status_code == 422, payload
        assert where in {str(p) for e in answer.json()["detail"] for p in e["loc"]}


async def test_deliveries_filter_by_state_and_resend_needs_a_dead_one(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/api/v1/deliveries", params={"state": "dead"})).json() == []
    assert (await api.get("/api/v1/deliveries", params={"state": "lost"})).status_code == 422
    assert (await api.post("/api/v1/deliveries/999999/resend")).status_code == 404
