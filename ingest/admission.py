"""The order gate (Art. 29): only positions and events of subjects under an active
monitoring order at their time are kept, and a protected person's positions only while a
subject they are protected from is under one. What is refused is recorded in quarantine with
the reason and without its payload, which holds a position no order allows ccmon to keep."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from domain import EventReport, FixBatch, Ids, Rejected
from ingest.batch import to_batch
from ingest.wire import stamp

if TYPE_CHECKING:
    from alerts import OrderBook, Pairs
    from ingest.decode import Contents, Message


@dataclass(frozen=True, slots=True)
class Admitted:
    """What the gate let through: subjects' fixes and events, and protected persons'
    fixes (their `subject` column holding the protected person's id); `origin`: the message
    each fix came from (the batch's, then the protected fixes')."""

    batch: FixBatch
    protected: FixBatch
    events: list[EventReport]
    origin: Ids


def _protects(pairs: Pairs, orders: OrderBook, person: Ids, time: np.ndarray) -> np.ndarray:
    """Is each protected person protected at time[i] from a subject under an order then?"""
    which, row = pairs.of(-person)
    watched = orders.covered(pairs.subject[row], time[which])
    out = np.zeros(person.shape[0], dtype=np.bool_)
    out[which[watched]] = True
    return out


def admit(decoded: Contents, messages: list[Message], orders: OrderBook, pairs: Pairs) -> Admitted:
    """Subjects' fixes and events under an order at their time, protected persons' fixes
    while they are protected; `decoded` gains a rejection per message that held anything
    else."""
    everything = to_batch(decoded.fixes)
    mine = everything.subject > 0
    theirs = everything.take(np.flatnonzero(~mine))
    protected = replace(theirs, subject=-theirs.subject)
    batch = everything if len(theirs) == 0 else everything.take(np.flatnonzero(mine))
    covered = orders.covered(batch.subject, batch.time)
    shielded = _protects(pairs, orders, protected.subject, protected.time)
    event_subject = np.array([e.subject_id for e in decoded.events], dtype=np.int64)
    event_covered = orders.covered(
        event_subject, np.array([e.time for e in decoded.events], dtype=np.float64)
    )
    origin = np.array(decoded.origin, dtype=np.int64)
    mine_origin, their_origin = origin[mine], origin[~mine]
    refused: dict[int, str] = {}
    # That it happened is kept (device, time, why), not what it said.
    for row in np.flatnonzero(~covered).tolist():
        refused.setdefault(
            int(mine_origin[row]),
            f"no active order: subject {batch.subject[row]} is not under monitoring"
            f" at {stamp(float(batch.time[row]))}",
        )
    for row in np.flatnonzero(~shielded).tolist():
        refused.setdefault(
            int(their_origin[row]),
            f"protected person {protected.subject[row]} is protected from nobody under"
            f" monitoring at {stamp(float(protected.time[row]))}",
        )
    for row in np.flatnonzero(~event_covered).tolist():
        e = decoded.events[row]
        refused.setdefault(
            decoded.event_origin[row],
            f"a protected person's phone: ccmon reads only its fixes (device {e.device_id})"
            if e.subject_id < 0
            else f"no active order: subject {e.subject_id} is not under monitoring"
            f" at {stamp(e.time)}",
        )
    for i, reason in sorted(refused.items()):
        decoded.rejected.append(Rejected(messages[i].topic, b"", reason))
    events = [e for e, ok in zip(decoded.events, event_covered.tolist(), strict=True) if ok]
    return Admitted(
        batch.take(np.flatnonzero(covered)),
        protected.take(np.flatnonzero(shielded)),
        events,
        np.concatenate([mine_origin[covered], their_origin[shielded]]),
    )
