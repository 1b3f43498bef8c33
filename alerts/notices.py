"""Alert events and what goes out about them: each finding or officer's step is written to
the alert's append-only history (全程留痕) and, in the same transaction, queued for the
webhooks and text messages that must hear of it. The webhook body, a contract integrators
build against (README: Webhooks), is made here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import store
from domain import AlertAction, AlertChange

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from domain import AlertNotice, Finding


def webhook_body(notice: AlertNotice) -> dict[str, Any]:
    """The event and the alert as it stands right after it."""
    return {
        "event": {
            "id": notice.event_id,
            "action": notice.action.value,
            "actor": notice.actor,
            "note": notice.note,
            "at": notice.at.isoformat(),
        },
        "alert": {
            "id": notice.alert_id,
            "kind": notice.kind.value,
            "severity": notice.severity.value,
            "state": notice.state.value,
            "condition": notice.condition.value,
            "count": notice.count,
            "subject": {
                "id": notice.subject_id,
                "name": notice.subject_name,
                "office_id": notice.office_id,
            },
            "zone": notice.zone_name,
            "device": notice.device_code,
            "fix_time": notice.fix_time.isoformat(),
            "last_time": notice.last_time.isoformat(),
            "lon": notice.lon,
            "lat": notice.lat,
            "message": notice.message,
            "opened_at": notice.opened_at.isoformat(),
        },
    }


async def add_event(
    conn: AsyncConnection[Any], *, alert_id: int, action: AlertAction, actor: str, note: str | None
) -> AlertNotice:
    """Append an event to the alert's history and queue what must go out about it."""
    notice = await store.alerts.record_event(
        conn, alert_id=alert_id, action=action, actor=actor, note=note
    )
    await store.outbox.enqueue(conn, notice, webhook_body(notice))
    return notice


async def record_findings(
    conn: AsyncConnection[Any], findings: list[Finding], *, actor: str
) -> list[AlertChange]:
    """Each finding opens, repeats or clears an alert, with an event for each that did."""
    changes = []
    for f in findings:
        applied = await store.alerts.apply_finding(conn, f)
        if applied is not None:
            alert_id, action = applied
            notice = await add_event(
                conn, alert_id=alert_id, action=action, actor=actor, note=str(f.message)
            )
            changes.append(
                AlertChange(alert_id, action, notice.event_id, f.kind, f.severity, f.subject_id)
            )
    return changes


async def escalate_unacknowledged(
    conn: AsyncConnection[Any], *, after_s: float, actor: str
) -> list[AlertChange]:
    """Critical alerts still open (not acknowledged) `after_s` seconds after opening get one
    escalation event each (their office's supervisors get a text message)."""
    changes = []
    for alert_id, kind, severity, subject_id in await store.alerts.mark_escalated(
        conn, after_s=after_s
    ):
        notice = await add_event(
            conn,
            alert_id=alert_id,
            action=AlertAction.ESCALATED,
            actor=actor,
            note=f"critical alert not acknowledged within {after_s / 60:.0f} min",
        )
        changes.append(
            AlertChange(
                alert_id, AlertAction.ESCALATED, notice.event_id, kind, severity, subject_id
            )
        )
    return changes
