"""Every change made through the API is written to the change log in its own transaction:
who, what, to which object, in which office, with what was asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import store
from api.deps import Id

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from pydantic import BaseModel

    from api.principal import Principal


async def record(
    conn: AsyncConnection[Any],
    user: Principal,
    action: str,
    target: str,
    target_id: Id | None,
    office_id: Id | None,
    body: BaseModel | None = None,
    *,
    exclude: set[str] | None = None,
    set_only: bool = False,
) -> None:
    """`body`: the request, minus `exclude` (secrets); `set_only`: only the fields the
    request set (a partial update)."""
    detail = (
        {}
        if body is None
        else body.model_dump(mode="json", exclude=exclude, exclude_unset=set_only)
    )
    await store.changes.record_change(
        conn,
        username=user.username,
        action=action,
        target=target,
        target_id=target_id,
        office_id=office_id,
        detail=detail,
    )
