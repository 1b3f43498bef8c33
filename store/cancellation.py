"""Living with psycopg_pool under asyncio cancellation."""

from __future__ import annotations

import asyncio


def honour_cancellation() -> None:
    """Stop if this task was asked to. psycopg_pool's getconn swallows a cancellation that
    races with a connection being handed over, and a TaskGroup already stopping asks its
    tasks only once; the task still counts the request. For every loop that uses the pool
    (not for clean-up after a cancellation, which may still use it)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
