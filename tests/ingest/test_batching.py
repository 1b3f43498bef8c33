"""Micro-batches: full batches under load, no waiting for company when it is quiet."""

from __future__ import annotations

import asyncio

from ingest import BatchConfig, Message, collect_batch


async def test_a_lone_message_goes_on_when_no_other_comes() -> None:
    """A batch may wait a minute to fill, but a quiet feed closes it once idle."""
    queue: asyncio.Queue[Message] = asyncio.Queue()
    queue.put_nowait(Message("cc/v1/devices/ph-1/fix", b"{}", 0.0))
    batch = await asyncio.wait_for(
        collect_batch(queue, BatchConfig(size=500, wait_s=60.0, idle_s=0.01)), 10.0
    )
    assert [m.topic for m in batch] == ["cc/v1/devices/ph-1/fix"]


async def test_what_is_waiting_is_taken_up_to_the_batch_size() -> None:
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for i in range(7):
        queue.put_nowait(Message(f"cc/v1/devices/ph-{i}/fix", b"{}", 0.0))
    config = BatchConfig(size=5, wait_s=60.0, idle_s=0.01)
    first = await asyncio.wait_for(collect_batch(queue, config), 10.0)
    rest = await asyncio.wait_for(collect_batch(queue, config), 10.0)
    assert [len(first), len(rest)] == [5, 2]
