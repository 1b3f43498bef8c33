"""What the benchmarks share: a throw-away database, a free loopback port, and the table
they print."""

from __future__ import annotations

import contextlib
import math
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ccmon.embedded import embedded_database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence


@contextlib.asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[str]:
    """`url`, or a throw-away embedded PostgreSQL (removed afterwards); yields its DSN."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="ccmon-bench-") as folder:
        async with embedded_database(Path(folder) / "postgres") as embedded:
            yield embedded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ms(seconds: np.ndarray[Any, np.dtype[np.float64]]) -> str:
    """p50 / p99 / max of durations in seconds, as milliseconds."""
    if seconds.size == 0:
        return "nothing arrived"
    p50, p99 = np.percentile(seconds * 1000, [50, 99])
    return f"{p50:,.0f} / {p99:,.0f} / {seconds.max() * 1000:,.0f} ms"


def print_table(rows: Sequence[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The shortest of `repeat` runs of `fn`, in seconds."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
