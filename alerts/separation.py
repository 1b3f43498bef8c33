"""Phone-wristband separation (人机分离): the phone must stay with the person.

Each fix is paired with the newest earlier fix of the subject's other device (from this batch
or remembered from earlier ones) if it is at most `pair_window_s` older. The older fix is
where the other device *was*: in the time between, the subject may have moved as far as the
newer fix's device moved in its own last interval (its speed times the time between the
pair), which counts like the accuracies: a pair farther apart than `separation_m` plus both
accuracies and that movement observes separation; one within `separation_m` even with all
of them added observes the two together; a pair in between (a cell fix a kilometre wide, or
a car a minute on) proves neither. The condition is confirmed after
`separation_s` of separation and ends after as long together. Both positions are WGS-84 by
now, so GCJ-02 phones do not drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alerts.confirm import confirm
from domain import AlertKind, Finding, RunStates, SeparationStates, Text
from domain.runs import ACCURACY, LAT, LON, TIME

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from alerts.policy import Policies
    from domain import FixBatch, Ids

_EARTH_RADIUS_M = 6_371_008.8
_NEVER = np.iinfo(np.int64).max  # a run length no run reaches: separation confirms by time


def metres_apart(
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
    lon2: NDArray[np.float64],
    lat2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle distance (haversine)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    distance: NDArray[np.float64] = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return distance


def separation_findings(
    batch: FixBatch,
    wristband: NDArray[np.bool_],
    state: SeparationStates,
    *,
    policies: Policies,
    paired: Ids,
) -> tuple[list[Finding], SeparationStates]:
    """`wristband[i]`: fix i comes from a wristband (else a phone). `paired`: sorted ids of
    the subjects that carry both; other subjects' fixes are ignored."""
    mine = np.flatnonzero(np.isin(batch.subject, paired))
    subjects = np.unique(batch.subject[mine])
    obs = _Observations.of(batch, wristband, mine, subjects, state)
    partner, valid = obs.partners(policies)
    apart = metres_apart(obs.lon, obs.lat, obs.lon[partner], obs.lat[partner])
    moved = obs.speed() * (obs.time - obs.time[partner])
    slack = obs.accuracy + obs.accuracy[partner]
    limit = policies.column(obs.subject, "separation_m")
    far, near = apart - slack - moved > limit, apart + slack + moved <= limit
    # apart, but no farther than the way covered since the older fix: as two devices in
    # one car would be; it breaks a run of apart (it does not prove them apart)
    explained = ~far & (apart - slack > limit)
    t = confirm(
        obs.subject,
        obs.time,
        far,
        valid & (far | near | explained),
        state.run,
        min_run=np.full(obs.subject.shape[0], _NEVER, dtype=np.int64),
        min_span_s=policies.column(obs.subject, "separation_s"),
    )
    findings = []
    for row, active in zip(t.rows.tolist(), t.active.tolist(), strict=True):
        band = row if obs.band[row] else int(partner[row])
        findings.append(
            Finding(
                kind=AlertKind.SEPARATION,
                subject_id=int(obs.subject[row]),
                time=float(obs.time[row]),
                message=Text(
                    "separation_apart" if active else "separation_together",
                    {"m": float(apart[row])},
                ),
                lon=float(obs.lon[band]),
                lat=float(obs.lat[band]),
                cleared=not active,
            )
        )
    return findings, obs.new_state(state, t.state)


class _Observations:
    """Remembered fixes (one phone, one wristband per subject) followed by the batch's,
    sorted by (subject, time); remembered rows are partners only, never observations."""

    def __init__(
        self,
        subject: Ids,
        time: NDArray[np.float64],
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        accuracy: NDArray[np.float64],
        band: NDArray[np.bool_],
        remembered: NDArray[np.bool_],
    ) -> None:
        order = np.lexsort((~remembered, time, subject))
        self.subject, self.time = subject[order], time[order]
        self.lon, self.lat, self.accuracy = lon[order], lat[order], accuracy[order]
        self.band, self.remembered = band[order], remembered[order]

    @classmethod
    def of(
        cls,
        batch: FixBatch,
        wristband: NDArray[np.bool_],
        rows: Ids,
        subjects: Ids,
        state: SeparationStates,
    ) -> _Observations:
        prior = state.columns(subjects)
        has_phone, has_band = ~np.isnan(prior.phone[:, TIME]), ~np.isnan(prior.wristband[:, TIME])
        phone, band = prior.phone[has_phone], prior.wristband[has_band]
        kept = np.concatenate([phone, band])
        owner = np.concatenate([subjects[has_phone], subjects[has_band]])

        def col(c: int, batch_values: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.concatenate([kept[:, c], batch_values[rows]])

        return cls(
            subject=np.concatenate([owner, batch.subject[rows]]),
            time=col(TIME, batch.time),
            lon=col(LON, batch.lon),
            lat=col(LAT, batch.lat),
            accuracy=col(ACCURACY, batch.accuracy),
            band=np.concatenate(
                [np.zeros(len(phone), np.bool_), np.ones(len(band), np.bool_), wristband[rows]]
            ),
            remembered=np.arange(len(kept) + rows.shape[0]) < len(kept),
        )

    def _newest(self, of_kind: NDArray[np.bool_], *, before: bool = False) -> Ids:
        """Per row: the newest row so far (`before`: strictly earlier) of the subject with
        `of_kind`, else -1."""
        n = self.subject.shape[0]
        idx = np.arange(n, dtype=np.int64)
        first = np.ones(n, dtype=np.bool_)
        first[1:] = self.subject[1:] != self.subject[:-1]
        start = np.maximum.accumulate(np.where(first, idx, 0))
        newest = np.maximum.accumulate(np.where(of_kind, idx, -1))
        if before:
            newest = np.concatenate([np.array([-1], np.int64), newest[:-1]])
        return np.where(newest >= start, newest, -1)

    def speed(self) -> NDArray[np.float64]:
        """Per row: metres a second its device moved since its previous fix (0 for a
        device's first one)."""
        prev = np.where(
            self.band, self._newest(self.band, before=True), self._newest(~self.band, before=True)
        )
        p = np.maximum(prev, 0)
        dt = np.maximum(self.time - self.time[p], 1.0)
        moved = metres_apart(self.lon, self.lat, self.lon[p], self.lat[p])
        return np.where(prev >= 0, moved / dt, 0.0)

    def partners(self, policies: Policies) -> tuple[Ids, NDArray[np.bool_]]:
        partner = np.where(self.band, self._newest(~self.band), self._newest(self.band))
        window = policies.column(self.subject, "pair_window_s")
        valid = (
            ~self.remembered
            & (partner >= 0)
            & (self.time - self.time[np.maximum(partner, 0)] <= window)
        )
        return np.maximum(partner, 0), valid

    def new_state(self, state: SeparationStates, runs: RunStates) -> SeparationStates:
        n = self.subject.shape[0]
        ends = np.flatnonzero(np.append(self.subject[1:] != self.subject[:-1], n > 0))
        subject = self.subject[ends]
        prior = state.columns(subject)
        rerun = np.isin(subject, runs.key)
        newer = runs.columns(subject)
        run = RunStates(
            key=subject,
            active=np.where(rerun, newer.active, prior.run.active),
            run=np.where(rerun, newer.run, prior.run.run),
            run_active=np.where(rerun, newer.run_active, prior.run.run_active),
            run_start=np.where(rerun, newer.run_start, prior.run.run_start),
            last_time=np.where(rerun, newer.last_time, prior.run.last_time),
        )
        return SeparationStates(
            key=subject,
            run=run,
            phone=self._fixes(self._newest(~self.band)[ends], prior.phone),
            wristband=self._fixes(self._newest(self.band)[ends], prior.wristband),
        )

    def _fixes(self, rows: Ids, otherwise: NDArray[np.float64]) -> NDArray[np.float64]:
        """The fix at each row (TIME, LON, LAT, ACCURACY); `otherwise`'s where -1."""
        r = np.maximum(rows, 0)
        fixes = np.column_stack([self.time[r], self.lon[r], self.lat[r], self.accuracy[r]])
        return np.where((rows >= 0)[:, None], fixes, otherwise)
