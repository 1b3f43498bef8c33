"""The device event rule: what a device says about itself, as findings.

Tamper and SOS are raised at once (a single event is the whole evidence); `charging` is
recorded as a low battery's condition clearing. Two words wait, because ordinary life says
them all the time: `power_off` is not an alert by itself (a phone restarted says it and
`power_on` within a minute) but the evidence the silence rule gives when the device then
stays silent past its limit; `low_battery` is raised only if no `charging` follows within
the level's `low_battery_hold_s` (a battery that runs low and is charged is nobody's
business). `offline` (the broker's last will) is left to the silence rule, which decides
by the level's limits rather than a dropped connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from domain import AlertKind, DeviceEvent, Finding, Text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from alerts.policy import Policies
    from domain import EventReport

# event: (the alert kind, whether it clears it); the text's key is the event's name
_RULES: dict[DeviceEvent, tuple[AlertKind, bool]] = {
    DeviceEvent.STRAP_OPENED: (AlertKind.TAMPER, False),
    DeviceEvent.STRAP_CUT: (AlertKind.TAMPER, False),
    DeviceEvent.REMOVED: (AlertKind.DEVICE_REMOVED, False),
    DeviceEvent.CHARGING: (AlertKind.LOW_BATTERY, True),
    DeviceEvent.SOS: (AlertKind.SOS, False),
}
_BATTERY = (DeviceEvent.LOW_BATTERY, DeviceEvent.CHARGING)


def event_findings(events: Iterable[EventReport]) -> list[Finding]:
    """One finding per event that means something to an officer at once, in event-time
    order."""
    out = []
    for e in sorted(events, key=lambda e: e.time):
        rule = _RULES.get(e.event)
        if rule is None:
            continue
        kind, cleared = rule
        out.append(_finding(kind, e, cleared=cleared))
    return out


def switched_off(events: Iterable[EventReport]) -> dict[int, EventReport]:
    """Per device, its newest `power_off` among these events."""
    out: dict[int, EventReport] = {}
    for e in sorted(events, key=lambda e: e.time):
        if e.event is DeviceEvent.POWER_OFF:
            out[e.device_id] = e
    return out


def battery_words(events: Iterable[EventReport]) -> tuple[dict[int, EventReport], set[int]]:
    """(devices whose newest battery word here is `low_battery`, with it; devices whose
    newest is `charging`)."""
    newest: dict[int, EventReport] = {}
    for e in sorted(events, key=lambda e: e.time):
        if e.event in _BATTERY:
            newest[e.device_id] = e
    low = {d: e for d, e in newest.items() if e.event is DeviceEvent.LOW_BATTERY}
    return low, set(newest) - set(low)


def low_battery_due(
    now: float, running_low: Mapping[int, EventReport], *, policies: Policies
) -> list[Finding]:
    """The low batteries not charged within their subject's `low_battery_hold_s`."""
    pending = list(running_low.values())
    subjects = np.array([e.subject_id for e in pending], dtype=np.int64)
    hold = policies.column(subjects, "low_battery_hold_s").tolist()
    return [
        _finding(AlertKind.LOW_BATTERY, e, cleared=False)
        for e, h in zip(pending, hold, strict=True)
        if now - e.time >= h
    ]


def _finding(kind: AlertKind, e: EventReport, *, cleared: bool) -> Finding:
    message = Text(e.event.value, {} if e.battery is None else {"battery": e.battery})
    return Finding(
        kind=kind,
        subject_id=e.subject_id,
        time=e.time,
        message=message,
        device_id=e.device_id,
        cleared=cleared,
    )
