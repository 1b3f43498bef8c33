"""No signal (失联): a device silent past its level's interval plus grace, and the subject
silent on every device (a separate, more severe alert). Decided on a timer, so silence is
noticed when nothing arrives at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import AlertKind, DeviceKind, Finding, Ids, Text

if TYPE_CHECKING:
    from collections.abc import Mapping

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
    """Which devices and which subjects are silent now."""

    devices: frozenset[int] = frozenset()
    subjects: frozenset[int] = frozenset()


def silence_findings(
    now: float,
    watched: Watched,
    last_seen: Mapping[int, float],
    before: Silence,
    *,
    policies: Policies,
    watching_since: float,
    hold: bool = False,
) -> tuple[list[Finding], Silence]:
    """Findings for devices and subjects that went silent or came back since `before`. A
    device never heard from counts as heard at `watching_since` (when monitoring began),
    unless it is silent already (a restart or another process taking over found it so).
    `hold`: ingest is reading a backlog, so what is stored is not all the devices said:
    a silent device may come back, none goes silent."""
    devices = watched.device.tolist()
    seen = np.array([last_seen.get(d, watching_since) for d in devices], dtype=np.float64)
    heard = np.array([d in last_seen for d in devices], dtype=np.bool_)
    was = np.isin(watched.device, np.fromiter(before.devices, dtype=np.int64))
    limit = watched.limits(policies)
    quiet = (now - seen > limit) | (was & ~heard)
    if hold:
        quiet &= was
    subjects = np.unique(watched.subject)
    talking = np.unique(watched.subject[~quiet])
    silent_subjects = frozenset(np.setdiff1d(subjects, talking).tolist())
    silent_devices = frozenset(watched.device[quiet].tolist())

    findings = []
    for i in np.flatnonzero(quiet != was).tolist():
        went = bool(quiet[i])
        kind = DeviceKind.WRISTBAND if watched.wristband[i] else DeviceKind.PHONE
        findings.append(
            Finding(
                kind=AlertKind.DEVICE_SILENT,
                subject_id=int(watched.subject[i]),
                time=float(seen[i] + limit[i]) if went else now,
                message=(
                    Text(f"{kind}_silent", {"min": float(limit[i]) / 60})
                    if went
                    else Text(f"{kind}_back")
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
                message=Text("subject_silent" if went else "subject_back"),
                cleared=not went,
            )
        )
    return findings, Silence(silent_devices, silent_subjects)
