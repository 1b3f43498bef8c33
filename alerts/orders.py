"""Monitoring orders as the rules see them: whether a subject is under an active order at a
fix's time (outside one, nothing of the subject is stored: Art. 29), and reminders to review
an order before it ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import AlertKind, Finding, Ids, MonitoringOrder, Text

if TYPE_CHECKING:
    from collections.abc import Iterable, Set

    from domain import EpochSeconds


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Every order's period as arrays sorted by subject; `most` is the largest number of
    orders any subject has (a handful: one per 3 months)."""

    subject: Ids
    starts: NDArray[np.float64]
    ends: NDArray[np.float64]
    most: int
    orders: tuple[MonitoringOrder, ...]

    @classmethod
    def build(cls, orders: Iterable[MonitoringOrder]) -> OrderBook:
        ordered = tuple(sorted(orders, key=lambda o: (o.subject_id, o.starts)))
        subject = np.array([o.subject_id for o in ordered], dtype=np.int64)
        _, counts = np.unique(subject, return_counts=True)
        return cls(
            subject=subject,
            starts=np.array([o.starts for o in ordered], dtype=np.float64),
            ends=np.array([o.ends for o in ordered], dtype=np.float64),
            most=int(counts.max()) if counts.size else 0,
            orders=ordered,
        )

    def covered(self, subject: Ids, time: EpochSeconds) -> NDArray[np.bool_]:
        """Is subject[i] under an order at time[i] (start inclusive, end exclusive)?"""
        out = np.zeros(subject.shape[0], dtype=np.bool_)
        if self.most == 0:
            return out
        lo = np.searchsorted(self.subject, subject, side="left")
        hi = np.searchsorted(self.subject, subject, side="right")
        last = self.subject.shape[0] - 1
        for j in range(self.most):
            k = np.minimum(lo + j, last)
            out |= (lo + j < hi) & (self.starts[k] <= time) & (time < self.ends[k])
        return out


def order_reminders(
    now: float, book: OrderBook, reminded: Set[tuple[int, float]], *, warn_s: float
) -> list[tuple[MonitoringOrder, Finding]]:
    """A reminder for each order ending within `warn_s` that no later order continues and
    that was not reminded of at this end (an extension moves the end: a new reminder)."""
    due = [
        o
        for o in book.orders
        if o.starts <= now < o.ends <= now + warn_s and (o.id, o.ends) not in reminded
    ]
    if not due:
        return []
    after = book.covered(
        np.array([o.subject_id for o in due], dtype=np.int64),
        np.array([o.ends for o in due], dtype=np.float64),
    )
    return [
        (
            o,
            Finding(
                kind=AlertKind.ORDER_ENDING,
                subject_id=o.subject_id,
                time=now,
                message=(
                    Text(
                        "order_ending",
                        {
                            "order": o.id,
                            "ends": f"{datetime.fromtimestamp(o.ends, UTC):%Y-%m-%d %H:%M}",
                            "days": (o.ends - now) / 86400,
                        },
                    )
                ),
                order_id=o.id,
            ),
        )
        for o, continued in zip(due, after.tolist(), strict=True)
        if not continued
    ]
