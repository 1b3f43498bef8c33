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


async def test_a_backlog_goes_in_larger_batches_but_a_feed_waits_for_the_size_only() -> None:
    queue: asyncio.Queue[Message] = asyncio.Queue()
    for i in range(23):
        queue.put_nowait(Message(f"cc/v1/devices/ph-{i}/fix", b"{}", 0.0))
    config = BatchConfig(size=5, wait_s=60.0, idle_s=0.05, most=20)
    backlog = await asyncio.wait_for(collect_batch(queue, config), 10.0)
    rest = await asyncio.wait_for(collect_batch(queue, config), 10.0)
    assert [len(backlog), len(rest)] == [20, 3]  # the 3: closed by the idle wait
    # A steady feed (a message every 10 ms, never idle for 50): once the size is reached
    # and nothing waits, the batch goes, although it may take 20.
    queue.put_nowait(Message("cc/v1/devices/ph-x/fix", b"{}", 0.0))

    async def feed() -> None:
        for i in range(9):
            await asyncio.sleep(0.01)
            queue.put_nowait(Message(f"cc/v1/devices/ph-{i}/fix", b"{}", 0.0))

    feeding = asyncio.create_task(feed())
    steady = await asyncio.wait_for(collect_batch(queue, config), 10.0)
    await feeding
    assert len(steady) == 5
