"""No signal (失联): a device silent past its level's interval plus grace, and the subject
silent on every device (a separate, more severe alert). Decided on a timer, so silence is
noticed when nothing arrives at all."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import AlertKind, DeviceKind, Finding, Ids, Text, Times

if TYPE_CHECKING:
    from alerts.policy import Policies


@dataclass(frozen=True, slots=True)
class Watched:
    """The devices watched for silence (active, bound), as parallel arrays."""

    device: Ids
    subject: Ids
    wristband: NDArray[np.bool_]

    def where(self, keep: NDArray[np.bool_]) -> Watched:
        """Only the devices where `keep` holds."""
        return Watched(self.device[keep], self.subject[keep], self.wristband[keep])

    def limits(self, policies: Policies) -> NDArray[np.float64]:
        """Seconds of silence allowed per device."""
        interval = np.where(
            self.wristband,
            policies.column(self.subject, "wristband_interval_s"),
            policies.column(self.subject, "phone_interval_s"),
        )
        return interval + policies.column(self.subject, "silence_grace_s")


@dataclass(frozen=True, slots=True)
class Silence:
    """Who is silent now. A device silent while its subject is heard on another has an alert
    of its own (`devices`; `off`: of those, the ones that said `power_off` first, whose alert
    is `power_off`); a subject silent on every device has one alert (`subjects`), not one
    more per device: one cause, one alert. `since`: each quiet device's last report before
    it went quiet (what its return is diagnosed against; unknown after a restart)."""

    devices: frozenset[int] = frozenset()
    subjects: frozenset[int] = frozenset()
    since: dict[int, float] = field(default_factory=dict)
    off: frozenset[int] = frozenset()


def silence_findings(
    now: float,
    watched: Watched,
    last_seen: Mapping[int, float],
    before: Silence,
    *,
    policies: Policies,
    watching_since: float,
    resumed: Mapping[int, float] | None = None,
    said_off: Collection[int] = (),
    hold: bool = False,
) -> tuple[list[Finding], Silence]:
    """Findings for devices and subjects that went silent or came back since `before`. A
    device never heard from counts as heard at `watching_since` (when monitoring began),
    unless it is silent already (a restart or another process taking over found it so).
    `resumed`: per quiet device, the earliest time measured of what it sent since, which
    tells a network gap (it measured all along and the upload came late) from a device
    that measured nothing (off, flat, or without a fix and not saying so). `said_off`: the
    devices whose last word was `power_off` (switched off, not merely silent).
    `hold`: ingest is reading a backlog, so what is stored is not all the devices said:
    a silent device may come back, none goes silent."""
    devices = watched.device.tolist()
    seen = Times.of(last_seen).at(watched.device, np.nan)
    heard = ~np.isnan(seen)
    seen[~heard] = watching_since
    was_alerted = np.isin(watched.device, np.fromiter(before.devices, dtype=np.int64))
    was = was_alerted | np.isin(watched.subject, np.fromiter(before.subjects, dtype=np.int64))
    limit = watched.limits(policies)
    quiet = (now - seen > limit) | (was & ~heard)
    if hold:
        quiet &= was
    subjects = np.unique(watched.subject)
    talking = np.unique(watched.subject[~quiet])
    silent_subjects = frozenset(np.setdiff1d(subjects, talking).tolist())
    alerted = quiet & (was_alerted | np.isin(watched.subject, talking))
    since = {
        d: before.since.get(d, float(seen[i])) if was[i] else float(seen[i])
        for i, d in enumerate(devices)
        if quiet[i]
    }
    off = np.isin(watched.device, np.fromiter(said_off, dtype=np.int64))
    judged = _Judged(
        watched, seen, limit, now, _Returns(before.since, resumed or {}, watched, limit, now)
    )
    findings = [
        judged.device(
            i, went=bool(alerted[i]), was_quiet=bool(was[i]), before=before, off=bool(off[i])
        )
        for i in np.flatnonzero(alerted != was_alerted).tolist()
    ]
    findings += [
        judged.subject(s, went=s in silent_subjects, quiet=quiet, off=off)
        for s in sorted(silent_subjects ^ (before.subjects & frozenset(subjects.tolist())))
    ]
    still_off = before.off & frozenset(watched.device[alerted].tolist())
    newly_off = frozenset(watched.device[alerted & ~was_alerted & off].tolist())
    return findings, Silence(
        frozenset(watched.device[alerted].tolist()), silent_subjects, since, still_off | newly_off
    )


@dataclass(frozen=True, slots=True)
class _Judged:
    """The silence findings of one tick, a device's or a subject's at a time."""

    watched: Watched
    seen: NDArray[np.float64]
    limit: NDArray[np.float64]
    now: float
    back: _Returns

    def device(self, i: int, *, went: bool, was_quiet: bool, before: Silence, off: bool) -> Finding:
        """Device `i` alerted (`went`) or back. Alerted as `power_off` if it said so before
        falling silent; back on the alert it was alerted with."""
        d = int(self.watched.device[i])
        kind = DeviceKind.WRISTBAND if self.watched.wristband[i] else DeviceKind.PHONE
        as_off = off if went else d in before.off
        if went:
            key = f"{kind}_switched_off" if off else f"{kind}_silent"
            message = Text(key, {"min": float(self.limit[i]) / 60})
        else:
            message = self.back.text(f"{kind}_back", np.array([i]))
        return Finding(
            kind=AlertKind.POWER_OFF if as_off else AlertKind.DEVICE_SILENT,
            subject_id=int(self.watched.subject[i]),
            # silent already when its subject was heard again: the alert starts now
            time=float(self.seen[i] + self.limit[i]) if went and not was_quiet else self.now,
            message=message,
            device_id=d,
            cleared=not went,
        )

    def subject(
        self, s: int, *, went: bool, quiet: NDArray[np.bool_], off: NDArray[np.bool_]
    ) -> Finding:
        mine = self.watched.subject == s
        if went:
            message = Text("subject_silent_off" if (off & mine).any() else "subject_silent")
        else:
            message = self.back.text("subject_back", np.flatnonzero(mine & ~quiet))
        return Finding(
            kind=AlertKind.SUBJECT_SILENT,
            subject_id=s,
            time=float((self.seen[mine] + self.limit[mine]).max()) if went else self.now,
            message=message,
            cleared=not went,
        )


@dataclass(frozen=True, slots=True)
class _Returns:
    """What the devices coming back say about the silence they end."""

    since: Mapping[int, float]
    resumed: Mapping[int, float]
    watched: Watched
    limit: NDArray[np.float64]
    now: float

    def text(self, key: str, rows: NDArray[np.int64]) -> Text:
        """`key` (back), `key`_late (a network gap: the first report measured after the
        silence began was due within the limit) or `key`_after (nothing measured for so
        long), from the devices at `rows` that came back."""
        late, gaps = [], []
        for i in rows.tolist():
            d = int(self.watched.device[i])
            start, first = self.since.get(d), self.resumed.get(d)
            if start is None or first is None:
                continue
            if first - start <= self.limit[i]:
                late.append(self.now - start)
            else:
                gaps.append(first - start)
        if late:
            return Text(f"{key}_late", {"min": max(late) / 60})
        if gaps:
            return Text(f"{key}_after", {"min": min(gaps) / 60})
        return Text(key)
