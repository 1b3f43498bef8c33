"""Check-ins (报到): a check-in request the subject's device did not answer in time is an
alert for the subject."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerts import notices
from domain import AlertKind, CommandKind, Finding, Text

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    import store


def missed_findings(expired: list[store.commands.Expired], now: float) -> list[Finding]:
    """One `check_in_missed` per expired check-in of a device bound to a subject."""
    return [
        Finding(
            AlertKind.CHECK_IN_MISSED,
            e.subject_id,
            now,
            Text(
                "check_in_missed",
                {"device": e.device_code} | ({} if e.error is None else {"error": e.error}),
            ),
        )
        for e in expired
        if e.kind == CommandKind.CHECK_IN and e.subject_id is not None
    ]


async def record_missed(
    conn: AsyncConnection[Any], expired: list[store.commands.Expired], *, now: float, actor: str
) -> None:
    """Raise the alerts for the check-ins among commands that just expired."""
    missed = missed_findings(expired, now)
    if missed:
        await notices.record_findings(conn, missed, actor=actor)
