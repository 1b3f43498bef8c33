"""Alert delivery against real HTTP receivers on loopback: each event arrives once per
subscription, signed; failures are retried, refusals are not; a slow receiver delays no
other; dead letters appear and can be resent; a worker killed mid-delivery loses nothing;
text messages go to the officers on duty, rate-limited per number."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import alerts
import store
from alerts import (
    DeliveryConfig,
    DeliveryWorker,
    Destinations,
    SmsChannel,
    SmsTemplate,
    WebhookChannel,
)
from domain import AlertKind, Finding
from tests.helpers import seed_subject, until
from tests.receiver import Receiver, running_receiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

    from tests.helpers import Seeded

QUICK = DeliveryConfig(retry_base_s=0.05, retry_max_s=0.2, lease_s=2.0, poll_s=0.02)
SECRET = "a-secret-of-enough-length"
LOOPBACK = Destinations(["127.0.0.0/8"])  # the receivers here are on loopback


@contextlib.asynccontextmanager
async def worker(
    pool: AsyncConnectionPool[Any],
    config: DeliveryConfig = QUICK,
    *,
    timeout_s: float = 1.0,
    sms: SmsTemplate | None = None,
    destinations: Destinations = LOOPBACK,
) -> AsyncIterator[DeliveryWorker]:
    async with (
        httpx.AsyncClient() as client,
        WebhookChannel(
            timeout_s=timeout_s, connections=config.per_subscription, destinations=destinations
        ) as webhooks,
    ):
        channels: dict[str, alerts.Channel] = {"webhook": webhooks}
        if sms is not None:
            channels["sms"] = SmsChannel(client, sms, language="zh", timeout_s=timeout_s)
        w = DeliveryWorker(pool, channels, config)
        task = asyncio.create_task(w.run())
        try:
            yield w
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as r:
        yield r


async def subscribe(
    pool: AsyncConnectionPool[Any],
    url: str,
    *,
    office_id: int | None = None,
    kinds: list[str] | None = None,
    min_severity: str = "normal",
) -> int:
    async with pool.connection() as conn:
        row = await store.subscriptions.create_subscription(
            conn,
            url=url,
            secret=SECRET,
            office_id=office_id,
            kinds=kinds,
            min_severity=min_severity,
            actor="test",
        )
    return row.id


async def raise_alert(
    pool: AsyncConnectionPool[Any], seeded: Seeded, kind: AlertKind = AlertKind.TAMPER
) -> int:
    async with pool.connection() as conn:
        (change,) = await alerts.notices.record_findings(
            conn,
            [Finding(kind, seeded.subject_id, time.time(), f"{kind} for the test")],
            actor="test",
        )
    return change.alert_id


def verify(r: Any, secret: str = SECRET) -> bool:
    """What the README tells a receiver to do."""
    timestamp = r.headers["x-ccmon-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + r.body, hashlib.sha256)
    fresh = abs(time.time() - int(timestamp)) < 300
    given = r.headers["x-ccmon-signature"]
    return fresh and hmac.compare_digest(given, "v1=" + expected.hexdigest())


async def office_of(pool: AsyncConnectionPool[Any], seeded: Seeded) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT office_id FROM subjects WHERE id = %s", (seeded.subject_id,)
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_each_event_arrives_once_per_matching_subscription_signed(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    seeded = await seed_subject(pool, code="deliver-once")
    office = await office_of(pool, seeded)
    await subscribe(pool, f"{receiver.base}/all", office_id=office)
    await subscribe(pool, f"{receiver.base}/critical", min_severity="critical")
    await subscribe(pool, f"{receiver.base}/sos-only", kinds=["sos"])
    async with worker(pool):
        alert_id = await raise_alert(pool, seeded)
        async with pool.connection() as conn:
            await alerts.act(
                conn, alert_id=alert_id, action=alerts.Action.ACKNOWLEDGE, actor="duty", note=None
            )
        await until(lambda: _count(receiver, "/all", 2), what="two events at /all")
        await until(lambda: _count(receiver, "/critical", 2), what="two events at /critical")
        await asyncio.sleep(0.3)  # nothing more arrives
    assert receiver.at("/sos-only") == []
    for path in ("/all", "/critical"):
        got = receiver.at(path)
        assert len(got) == 2
        assert all(verify(r) for r in got)
        bodies = [json.loads(r.body) for r in got]
        assert [b["event"]["action"] for b in bodies] == ["opened", "acknowledged"]
        assert [b["alert"]["state"] for b in bodies] == ["open", "acknowledged"]
        assert {b["alert"]["id"] for b in bodies} == {alert_id}
        assert [int(r.headers["x-ccmon-event"]) for r in got] == [b["event"]["id"] for b in bodies]
    assert not verify(receiver.at("/all")[0], secret="somebody-elses-secret")


async def _count(receiver: Receiver, path: str, n: int) -> bool:
    return len(receiver.at(path)) >= n


async def deliveries_for(
    pool: AsyncConnectionPool[Any], url: str
) -> list[store.outbox.DeliveryRow]:
    async with pool.connection() as conn:
        rows = await store.outbox.list_deliveries(conn, state=None, limit=1000)
    return [r for r in rows if r.url == url]


async def test_failures_are_retried_and_refusals_are_not(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    seeded = await seed_subject(pool, code="deliver-retry")
    office = await office_of(pool, seeded)
    receiver.answers = {"/flaky": [500, 503, 429], "/refuses": [400]}
    await subscribe(pool, f"{receiver.base}/flaky", office_id=office)
    await subscribe(pool, f"{receiver.base}/refuses", office_id=office)
    async with worker(pool):
        await raise_alert(pool, seeded)
        await until(lambda: _count(receiver, "/flaky", 4), what="the fourth attempt")
        await until(lambda: _settled(pool, f"{receiver.base}/refuses"), what="the refusal")
        await asyncio.sleep(0.3)
    flaky = receiver.at("/flaky")
    assert len(flaky) == 4
    assert len({r.headers["x-ccmon-event"] for r in flaky}) == 1  # one event, tried 4 times
    assert len({r.headers["x-ccmon-delivery"] for r in flaky}) == 1
    (done,) = await deliveries_for(pool, f"{receiver.base}/flaky")
    assert (done.state, done.attempts) == ("delivered", 4)
    assert len(receiver.at("/refuses")) == 1
    (dead,) = await deliveries_for(pool, f"{receiver.base}/refuses")
    assert (dead.state, dead.attempts) == ("dead", 1)
    assert dead.last_error == "HTTP 400"  # the status only, not what the receiver said


async def _settled(pool: AsyncConnectionPool[Any], url: str) -> bool:
    rows = await deliveries_for(pool, url)
    return bool(rows) and all(r.state != "pending" for r in rows)


async def test_webhooks_reach_no_inside_address_and_follow_no_redirect(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    """Without the operator allowing loopback, a subscription to it (made in the store,
    past the API's own check) is refused at delivery, nothing sent; a redirect is a final
    answer, never followed."""
    seeded = await seed_subject(pool, code="deliver-inside")
    office = await office_of(pool, seeded)
    inside = f"{receiver.base}/inside"
    await subscribe(pool, inside, office_id=office)
    async with worker(pool, destinations=Destinations()):
        await raise_alert(pool, seeded)
        await until(lambda: _settled(pool, inside), what="the refusal")
    (refused,) = await deliveries_for(pool, inside)
    assert (refused.state, refused.attempts) == ("dead", 1)
    assert refused.last_error is not None
    assert "127.0.0.1, an address inside" in refused.last_error
    assert receiver.at("/inside") == []
    receiver.answers = {"/moved": [302]}
    moved = f"{receiver.base}/moved"
    await subscribe(pool, moved, office_id=office)
    async with worker(pool):
        await raise_alert(pool, seeded, AlertKind.SOS)
        await until(lambda: _settled(pool, moved), what="the redirect answered")
    (redirected,) = await deliveries_for(pool, moved)
    assert (redirected.state, redirected.last_error) == (
        "dead",
        "HTTP 302 (a redirect, not followed)",
    )
    assert receiver.at("/elsewhere") == []


async def test_a_slow_receiver_delays_no_other(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    seeded = await seed_subject(pool, code="deliver-slow")
    office = await office_of(pool, seeded)
    receiver.delay = {"/slow": 3.0}
    await subscribe(pool, f"{receiver.base}/slow", office_id=office)
    await subscribe(pool, f"{receiver.base}/fast", office_id=office)
    async with worker(pool, timeout_s=1.0):
        started = time.monotonic()
        for _ in range(3):
            await raise_alert(pool, seeded, AlertKind.SOS)
            await raise_alert(pool, seeded, AlertKind.POWER_OFF)
        await until(lambda: _count(receiver, "/fast", 6), what="six events at /fast")
        fast_done = max(r.at for r in receiver.at("/fast")) - started
    assert fast_done < 1.0, f"the fast receiver waited {fast_done:.2f} s"


async def test_a_dead_letter_can_be_seen_and_resent(
    pool: AsyncConnectionPool[Any], receiver: Receiver, admin_api: httpx.AsyncClient
) -> None:
    seeded = await seed_subject(pool, code="deliver-dead")
    office = await office_of(pool, seeded)
    receiver.answers = {"/down": [503] * 1000}
    url = f"{receiver.base}/down"
    await subscribe(pool, url, office_id=office)
    async with worker(pool, DeliveryConfig(retry_base_s=0.05, max_age_s=0.5, poll_s=0.02)):
        await raise_alert(pool, seeded)
        await until(lambda: _settled(pool, url), what="the dead letter")
        dead = (await admin_api.get("/api/v1/deliveries", params={"state": "dead"})).json()
        (letter,) = [d for d in dead if d["url"] == url]
        assert letter["attempts"] >= 2
        assert letter["last_error"].startswith("HTTP 503")
        receiver.answers["/down"] = []  # back up
        again = await admin_api.post(f"/api/v1/deliveries/{letter['id']}/resend")
        assert (again.status_code, again.json()["state"]) == (200, "pending")
        await until(lambda: _delivered(pool, url), what="the resent delivery")
    twice = await admin_api.post(f"/api/v1/deliveries/{letter['id']}/resend")
    assert twice.status_code == 409
    ids = {r.headers["x-ccmon-delivery"] for r in receiver.at("/down")}
    assert ids == {str(letter["id"])}


async def _delivered(pool: AsyncConnectionPool[Any], url: str) -> bool:
    return [r.state for r in await deliveries_for(pool, url)] == ["delivered"]


async def test_a_stopped_webhook_gets_no_more_retries(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    seeded = await seed_subject(pool, code="deliver-stopped")
    office = await office_of(pool, seeded)
    receiver.answers = {"/stopped": [503] * 1000}
    url = f"{receiver.base}/stopped"
    subscription = await subscribe(pool, url, office_id=office)
    async with worker(pool):
        await raise_alert(pool, seeded)
        await until(lambda: _count(receiver, "/stopped", 2), what="retries under way")
        async with pool.connection() as conn:
            assert await store.subscriptions.deactivate_subscription(
                conn, subscription_id=subscription
            )
        tried = len(receiver.at("/stopped"))
        await asyncio.sleep(0.5)  # several retry intervals here
    assert len(receiver.at("/stopped")) <= tried + 1  # at most the one already in flight
    (row,) = await deliveries_for(pool, url)
    assert (row.state, row.last_error) == ("suppressed", "the webhook was stopped")


async def test_a_worker_killed_mid_delivery_loses_nothing(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    seeded = await seed_subject(pool, code="deliver-kill")
    office = await office_of(pool, seeded)
    receiver.delay = {"/hang": 0.5}
    url = f"{receiver.base}/hang"
    await subscribe(pool, url, office_id=office)
    lease = DeliveryConfig(lease_s=1.0, poll_s=0.02)
    async with worker(pool, lease):
        await raise_alert(pool, seeded)
        await until(lambda: _count(receiver, "/hang", 1), what="the first attempt in flight")
    # Killed while the receiver was still answering: the row is leased, not lost.
    assert [r.state for r in await deliveries_for(pool, url)] == ["pending"]
    receiver.delay = {}
    async with worker(pool, lease):
        await until(lambda: _delivered(pool, url), what="the delivery after the restart")
    got = receiver.at("/hang")
    assert len(got) == 2
    assert len({r.headers["x-ccmon-event"] for r in got}) == 1  # the receiver can drop one


async def test_texts_go_to_the_enabled_officers_on_duty_at_most_n_per_number(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    seeded = await seed_subject(pool, code="deliver-sms")
    office = await office_of(pool, seeded)
    async with pool.connection() as conn:
        for name, phone, on_duty, role in (
            ("duty-1", "+8613800000001", True, "officer"),
            ("off-duty", "+8613800000002", False, "officer"),
            ("chief", "+8613800000003", False, "supervisor"),
            ("left-the-job", "+8613800000004", True, "officer"),
        ):
            await store.users.create_user(conn, username=name, password_hash="x", role=role)
            await conn.execute(
                "UPDATE users SET office_id = %s, phone = %s, on_duty = %s WHERE username = %s",
                (office, phone, on_duty, name),
            )
        await conn.execute("UPDATE users SET disabled_at = now() WHERE username = 'left-the-job'")
    gateway = SmsTemplate(
        url=f"{receiver.base}/sms",
        headers={"Content-Type": "application/json", "X-Api-Key": "k"},
        body='{"mobile": "{phone}", "content": "{message}", "sign": "ccmon"}',
    )
    config = DeliveryConfig(sms_per_phone=2, sms_window_s=600, poll_s=0.02)
    async with worker(pool, config, sms=gateway):
        for kind in (AlertKind.SOS, AlertKind.TAMPER, AlertKind.DEVICE_REMOVED):
            await raise_alert(pool, seeded, kind)
            await asyncio.sleep(0.3)  # one after another, as a storm arrives
        await raise_alert(pool, seeded, AlertKind.LOW_BATTERY)  # normal severity: no text
        async with pool.connection() as conn:
            await alerts.notices.escalate_unacknowledged(conn, after_s=0, actor="test")
        await until(lambda: _count(receiver, "/sms", 4), what="the texts")
        await asyncio.sleep(0.5)
    texts = [json.loads(r.body) for r in receiver.at("/sms")]
    to_duty = [t for t in texts if t["mobile"] == "+8613800000001"]
    to_chief = [t for t in texts if t["mobile"] == "+8613800000003"]
    assert len(to_duty) == 2  # the third was held back by the rate limit
    assert len(to_chief) == 2  # three escalations, the third held back too
    assert {t["mobile"] for t in texts} == {"+8613800000001", "+8613800000003"}  # not disabled
    assert "紧急告警" in to_duty[0]["content"]
    assert "紧急求助" in to_duty[0]["content"]
    assert "升级" in to_chief[0]["content"]
    assert all(r.headers["x-api-key"] == "k" for r in receiver.at("/sms"))
    async with pool.connection() as conn:
        held = await store.outbox.list_deliveries(conn, state="suppressed", limit=100)
    assert any((h.last_error or "").startswith("rate limit") for h in held)


async def test_the_webhook_body_is_the_documented_contract(
    pool: AsyncConnectionPool[Any], receiver: Receiver
) -> None:
    """The body as the README shows it: these keys, nothing more, each with the alert's
    value right after the event (a zone exit, so the position and zone are filled)."""
    seeded = await seed_subject(pool, code="deliver-contract")
    office = await office_of(pool, seeded)
    await subscribe(pool, f"{receiver.base}/contract", office_id=office)
    at = time.time() - 5
    async with worker(pool):
        async with pool.connection() as conn:
            (change,) = await alerts.notices.record_findings(
                conn,
                [
                    Finding(
                        AlertKind.ZONE_EXIT,
                        seeded.subject_id,
                        at,
                        "left the district",
                        assignment_id=seeded.assignment_id,
                        lon=104.0712345,
                        lat=30.6598765,
                    )
                ],
                actor="ccmon-ingest",
            )
        await until(lambda: _count(receiver, "/contract", 1), what="the event delivered")
    (got,) = receiver.at("/contract")
    body = json.loads(got.body)
    async with pool.connection() as conn:
        alert = await store.alerts.get_alert(conn, alert_id=change.alert_id)
    assert alert is not None
    event, sent = body["event"], body["alert"]
    assert set(body) == {"event", "alert"}
    assert event == {
        "id": change.event_id,
        "action": "opened",
        "actor": "ccmon-ingest",
        "note": "left the district",
        "at": event["at"],
    }
    assert set(sent) == {
        "id", "kind", "severity", "state", "condition", "count", "subject", "zone", "device",
        "fix_time", "last_time", "lon", "lat", "message", "opened_at",
    }  # fmt: skip
    times = {k: datetime.fromisoformat(sent[k]) for k in ("fix_time", "last_time", "opened_at")}
    assert {**sent, **{k: datetime.fromisoformat(sent[k]) for k in times}} == {
        "id": alert.id,
        "kind": "zone_exit",
        "severity": "high",
        "state": "open",
        "condition": "active",
        "count": 1,
        "subject": {"id": seeded.subject_id, "name": alert.subject_name, "office_id": office},
        "zone": alert.zone_name,
        "device": None,
        "fix_time": alert.fix_time,
        "last_time": alert.last_time,
        "lon": 104.0712345,
        "lat": 30.6598765,
        "message": "left the district",
        "opened_at": alert.opened_at,
    }
    assert alert.zone_name is not None
    assert abs(datetime.fromisoformat(event["at"]) - alert.opened_at) < timedelta(seconds=1)
    assert all(t.tzinfo is not None for t in times.values())
