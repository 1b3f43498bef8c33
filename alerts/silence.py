"""No signal (失联): a device silent past its level's interval plus grace, and the subject
silent on every device (a separate, more severe alert). Decided on a timer, so silence is
noticed when nothing arrives at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import AlertKind, DeviceKind, Finding, Ids, Text

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
    of its own (`devices`); a subject silent on every device has one alert (`subjects`), not
    one more per device: one cause, one alert. `since`: each quiet device's last report before
    it went quiet (what its return is diagnosed against; unknown after a restart)."""

    devices: frozenset[int] = frozenset()
    subjects: frozenset[int] = frozenset()
    since: dict[int, float] = field(default_factory=dict)


def silence_findings(
    now: float,
    watched: Watched,
    last_seen: Mapping[int, float],
    before: Silence,
    *,
    policies: Policies,
    watching_since: float,
    resumed: Mapping[int, float] | None = None,
    hold: bool = False,
) -> tuple[list[Finding], Silence]:
    """Findings for devices and subjects that went silent or came back since `before`. A
    device never heard from counts as heard at `watching_since` (when monitoring began),
    unless it is silent already (a restart or another process taking over found it so).
    `resumed`: per quiet device, the earliest time measured of what it sent since, which
    tells a network gap (it measured all along and the upload came late) from a device
    that measured nothing (off, flat, or without a fix and not saying so).
    `hold`: ingest is reading a backlog, so what is stored is not all the devices said:
    a silent device may come back, none goes silent."""
    devices = watched.device.tolist()
    seen = np.array([last_seen.get(d, watching_since) for d in devices], dtype=np.float64)
    heard = np.array([d in last_seen for d in devices], dtype=np.bool_)
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
    back = _Returns(before.since, resumed or {}, watched, limit, now)

    findings = []
    for i in np.flatnonzero(alerted != was_alerted).tolist():
        went = bool(alerted[i])
        kind = DeviceKind.WRISTBAND if watched.wristband[i] else DeviceKind.PHONE
        findings.append(
            Finding(
                kind=AlertKind.DEVICE_SILENT,
                subject_id=int(watched.subject[i]),
                # silent already when its subject was heard again: the alert starts now
                time=float(seen[i] + limit[i]) if went and not was[i] else now,
                message=(
                    Text(f"{kind}_silent", {"min": float(limit[i]) / 60})
                    if went
                    else back.text(f"{kind}_back", np.array([i]))
                ),
                device_id=int(watched.device[i]),
                cleared=not went,
            )
        )
    for s in sorted(silent_subjects ^ (before.subjects & frozenset(subjects.tolist()))):
        went = s in silent_subjects
        mine = watched.subject == s
        findings.append(
            Finding(
                kind=AlertKind.SUBJECT_SILENT,
                subject_id=s,
                time=float((seen[mine] + limit[mine]).max()) if went else now,
                message=(
                    Text("subject_silent")
                    if went
                    else back.text("subject_back", np.flatnonzero(mine & ~quiet))
                ),
                cleared=not went,
            )
        )
    return findings, Silence(frozenset(watched.device[alerted].tolist()), silent_subjects, since)


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
