"""The order gate (Art. 29): only positions and events of subjects under an active
monitoring order at their time are kept. What is refused is recorded in quarantine with
the reason and without its payload, which holds a position no order allows ccmon to keep."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from domain import Rejected
from ingest.batch import to_batch
from ingest.wire import stamp

if TYPE_CHECKING:
    from alerts import OrderBook
    from domain import EventReport, FixBatch
    from ingest.decode import Contents, Message


def admit(
    decoded: Contents, messages: list[Message], orders: OrderBook
) -> tuple[FixBatch, list[EventReport]]:
    """The batch and events of subjects under an order at their time; `decoded` keeps only
    what is covered, and gains a rejection per message that held anything else."""
    batch = to_batch(decoded.fixes)
    covered = orders.covered(batch.subject, batch.time)
    event_covered = orders.covered(
        np.array([e.subject_id for e in decoded.events], dtype=np.int64),
        np.array([e.time for e in decoded.events], dtype=np.float64),
    )
    refused: dict[int, tuple[int, float]] = {}
    for row in np.flatnonzero(~covered).tolist():
        refused.setdefault(decoded.origin[row], (int(batch.subject[row]), float(batch.time[row])))
    for row in np.flatnonzero(~event_covered).tolist():
        e = decoded.events[row]
        refused.setdefault(decoded.event_origin[row], (e.subject_id, e.time))
    for i, (subject, t) in sorted(refused.items()):
        # That it happened is kept (device, time, why), not what it said.
        reason = f"no active order: subject {subject} is not under monitoring at {stamp(t)}"
        decoded.rejected.append(Rejected(messages[i].topic, b"", reason))
    if not refused:
        return batch, decoded.events
    keep = np.flatnonzero(covered)
    decoded.origin = [decoded.origin[k] for k in keep.tolist()]
    events = [e for e, ok in zip(decoded.events, event_covered.tolist(), strict=True) if ok]
    return batch.take(keep), events
