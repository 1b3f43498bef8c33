"""Webhook subscriptions and deliveries over the API: created with a secret shown once,
listed without it, stopped; bad requests answered with what is wrong."""

from __future__ import annotations

from typing import Any

import httpx

from api import create_app


async def test_a_subscription_shows_its_secret_once(admin_api: httpx.AsyncClient) -> None:
    created = await admin_api.post(
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
        "test-admin",
    )
    listed = (await admin_api.get("/api/v1/webhooks")).json()
    assert [s["id"] for s in listed] == [sub["id"]]
    assert "secret" not in listed[0]
    assert (await admin_api.delete(f"/api/v1/webhooks/{sub['id']}")).status_code == 204
    assert (await admin_api.get("/api/v1/webhooks")).json()[0]["active"] is False
    assert (await admin_api.delete("/api/v1/webhooks/999999")).status_code == 404


async def test_bad_subscriptions_say_what_is_wrong(admin_api: httpx.AsyncClient) -> None:
    for payload, where in (
        ({"url": "ftp://x"}, "url"),
        ({"url": "https://x.example", "secret": "short"}, "secret"),
        ({"url": "https://x.example", "kinds": ["teleport"]}, "kinds"),
        ({"url": "https://x.example", "min_severity": "urgent"}, "min_severity"),
    ):
        answer = await admin_api.post("/api/v1/webhooks", json=payload)
        assert answer.status_code == 422, payload
        assert answer.json()["detail"].startswith(f"body.{where}"), answer.json()


async def test_deliveries_filter_by_state_and_resend_needs_a_dead_one(
    admin_api: httpx.AsyncClient,
) -> None:
    assert (await admin_api.get("/api/v1/deliveries", params={"state": "dead"})).json() == []
    assert (await admin_api.get("/api/v1/deliveries", params={"state": "lost"})).status_code == 422
    assert (await admin_api.post("/api/v1/deliveries/999999/resend")).status_code == 404


async def test_only_admins_manage_webhooks_deliveries_and_quarantine(
    api: httpx.AsyncClient,
) -> None:
    """An officer (even a county-wide one) gets 403: integrations and raw device input,
    which may hold anyone's position, are the admin's."""
    for method, path in (
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/webhooks"),
        ("GET", "/api/v1/deliveries"),
        ("POST", "/api/v1/deliveries/1/resend"),
        ("GET", "/api/v1/quarantine"),
        ("GET", "/api/v1/quarantine/1"),
    ):
        answer = await api.request(method, path, json={"url": "https://x.example"})
        assert answer.status_code == 403, (method, path)


async def test_a_webhook_cannot_point_inside(admin_api: httpx.AsyncClient, pool: Any) -> None:
    """Loopback, cloud metadata (link-local), private and IPv6 loopback destinations are
    refused with the reason, unless the operator allows the network."""
    for url in (
        "http://127.0.0.1:8000/api/v1/alerts",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ):
        answer = await admin_api.post("/api/v1/webhooks", json={"url": url})
        assert answer.status_code == 422, url
        assert "an address inside" in answer.json()["detail"], url
    app = create_app(pool, webhook_networks=["10.0.0.0/8"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ccmon", headers=admin_api.headers
    ) as allowing:
        intranet = await allowing.post("/api/v1/webhooks", json={"url": "http://10.1.2.3/hook"})
        assert intranet.status_code == 201
        still = await allowing.post("/api/v1/webhooks", json={"url": "http://127.0.0.1/x"})
        assert still.status_code == 422
