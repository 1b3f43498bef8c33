"""Subjects and their latest positions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

import store
from api.auth import CurrentUser
from api.deps import Conn

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.get("")
async def list_subjects(conn: Conn, _user: CurrentUser) -> list[store.SubjectRow]:
    return await store.list_subjects(conn)


async def _known_subject(subject_id: int, conn: Conn, _user: CurrentUser) -> int:
    """The path's subject, after the caller is authenticated; 404 if there is none."""
    if not await store.subject_exists(conn, subject_id=subject_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subject {subject_id}")
    return subject_id


KnownSubject = Annotated[int, Depends(_known_subject)]
Limit = Annotated[int, Query(ge=1, le=10_000)]


@router.get("/{subject_id}/fixes")
async def subject_fixes(
    subject_id: KnownSubject, conn: Conn, limit: Limit = 100
) -> list[store.FixRow]:
    """The subject's newest fixes, newest first."""
    return await store.last_fixes(conn, subject_id=subject_id, limit=limit)


@router.get("/{subject_id}/events")
async def subject_events(
    subject_id: KnownSubject, conn: Conn, limit: Limit = 100
) -> list[store.EventRow]:
    """What the subject's devices reported about themselves, newest first."""
    return await store.subject_events(conn, subject_id=subject_id, limit=limit)
