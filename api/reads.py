"""Location reads (Art. 29): every look at where someone is or was states its purpose and is
on the record, committed, before the data is sent. Each REST route that shows a position
goes through here (the live feed records its own read as it opens, in `api.live`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Query

import store
from api.deps import Id

if TYPE_CHECKING:
    from psycopg import AsyncConnection

    from api.principal import Principal

Purpose = Annotated[
    str,
    Query(
        min_length=4,
        max_length=500,
        description="why the location is needed (recorded in the audit trail with the read)",
    ),
]


async def on_record(
    conn: AsyncConnection[object],
    user: Principal,
    *,
    what: str,
    purpose: str,
    fixes: int,
    subject_id: Id | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    protected_person_id: Id | None = None,
) -> None:
    """Record the read (who, whose, what, why, how many) and commit it: the caller sends
    the data only after this returns."""
    await store.audit.record_location_read(
        conn,
        username=user.username,
        subject_id=subject_id,
        what=what,
        purpose=purpose,
        fixes=fixes,
        since=since,
        until=until,
        protected_person_id=protected_person_id,
    )
    await conn.commit()
