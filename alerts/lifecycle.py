"""The alert lifecycle: open -> acknowledged -> resolved or dismissed (a false alarm).

Each step is checked here, stamped with who and when on the alert, and written as an
append-only alert event (全程留痕); the store refuses to rewrite events.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import store
from alerts import notices, pursuit
from domain import AlertAction, AlertState, Severity

if TYPE_CHECKING:
    from psycopg import AsyncConnection


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    NOTE = "note"  # a note on the record, in any state


_LIVE = frozenset({AlertState.OPEN, AlertState.ACKNOWLEDGED})
# action: (the states it may be taken in, the state it leads to, the event it writes)
_MOVES: dict[Action, tuple[frozenset[AlertState], AlertState | None, AlertAction]] = {
    Action.ACKNOWLEDGE: (
        frozenset({AlertState.OPEN}),
        AlertState.ACKNOWLEDGED,
        AlertAction.ACKNOWLEDGED,
    ),
    Action.RESOLVE: (_LIVE, AlertState.RESOLVED, AlertAction.RESOLVED),
    Action.DISMISS: (_LIVE, AlertState.DISMISSED, AlertAction.DISMISSED),
    Action.NOTE: (frozenset(AlertState), None, AlertAction.NOTED),
}


class LifecycleError(Exception):
    """A step an officer asked for that cannot be taken; the message says why."""


class AlertNotFoundError(LifecycleError):
    pass


class WrongStateError(LifecycleError):
    pass


class NoteRequiredError(LifecycleError):
    pass


def next_state(
    state: AlertState, severity: Severity, action: Action, note: str | None
) -> AlertState | None:
    """The state after `action` (None: unchanged), or the reason it is not allowed."""
    allowed_from, to, _ = _MOVES[action]
    if state not in allowed_from:
        raise WrongStateError(f"cannot {action} an alert that is {state}")
    has_note = note is not None and note.strip() != ""
    if action is Action.NOTE and not has_note:
        raise NoteRequiredError("a note needs text")
    if (
        action in (Action.RESOLVE, Action.DISMISS)
        and severity is Severity.CRITICAL
        and not has_note
    ):
        raise NoteRequiredError(f"a critical alert needs a note to {action}: say what was done")
    return to


async def act(
    conn: AsyncConnection[Any], *, alert_id: int, action: Action, actor: str, note: str | None
) -> store.alerts.AlertRow:
    """Take one step on an alert, in one transaction; concurrent steps on the same alert
    queue behind each other, so two officers cannot both resolve it."""
    async with conn.transaction():
        alert = await store.alerts.get_alert(conn, alert_id=alert_id, lock=True)
        if alert is None:
            raise AlertNotFoundError(f"no alert {alert_id}")
        to = next_state(AlertState(alert.state), Severity(alert.severity), action, note)
        if to is not None:
            await store.alerts.set_state(conn, alert_id=alert_id, state=to, actor=actor)
            await pursuit.end(conn, alert_id=alert_id, actor=actor)
        await notices.add_event(
            conn, alert_id=alert_id, action=_MOVES[action][2], actor=actor, note=note
        )
        updated = await store.alerts.get_alert(conn, alert_id=alert_id)
    assert updated is not None
    return updated
