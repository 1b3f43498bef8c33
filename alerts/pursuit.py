"""Pursuit mode: while an alert of a pursuit kind is open, its subject's devices report at
their level's pursuit rate; an officer handling the alert ends it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import store
from domain import PURSUIT_KINDS, AlertAction

if TYPE_CHECKING:
    from collections.abc import Mapping

    from psycopg import AsyncConnection

    from domain import AlertChange, LevelPolicy, SupervisionLevel


async def start(
    conn: AsyncConnection[Any],
    changes: list[AlertChange],
    *,
    levels: Mapping[SupervisionLevel, LevelPolicy],
) -> None:
    """Alerts of a pursuit kind just opened: their subjects' devices report faster."""
    opened = [c.alert_id for c in changes if c.action == AlertAction.OPENED]
    if opened:
        await store.commands.start_pursuits(
            conn,
            alert_ids=opened,
            kinds=[k.value for k in PURSUIT_KINDS],
            rates={
                level.value: (p.pursuit_interval_s, p.pursuit_max_s) for level, p in levels.items()
            },
        )


async def end(conn: AsyncConnection[Any], *, alert_id: int, actor: str) -> None:
    """The alert was handled: its subject's devices go back to their level's rate."""
    await store.commands.end_pursuit(conn, alert_id=alert_id, actor=actor)
