"""The device event rule: what a device says about itself, as findings.

Tamper and SOS are raised at once (a single event is the whole evidence); a later event that
undoes one (power on after power off, charging after low battery) is recorded as the
condition clearing. `offline` (the broker's last will) is left to the silence rule, which
decides by the level's limits rather than a dropped connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain import AlertKind, DeviceEvent, Finding, Text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from domain import EventReport

# event: (the alert kind, whether it clears it); the text's key is the event's name
_RULES: dict[DeviceEvent, tuple[AlertKind, bool]] = {
    DeviceEvent.STRAP_OPENED: (AlertKind.TAMPER, False),
    DeviceEvent.STRAP_CUT: (AlertKind.TAMPER, False),
    DeviceEvent.REMOVED: (AlertKind.DEVICE_REMOVED, False),
    DeviceEvent.POWER_OFF: (AlertKind.POWER_OFF, False),
    DeviceEvent.POWER_ON: (AlertKind.POWER_OFF, True),
    DeviceEvent.LOW_BATTERY: (AlertKind.LOW_BATTERY, False),
    DeviceEvent.CHARGING: (AlertKind.LOW_BATTERY, True),
    DeviceEvent.SOS: (AlertKind.SOS, False),
}


def event_findings(events: Iterable[EventReport]) -> list[Finding]:
    """One finding per event that means something to an officer, in event-time order."""
    out = []
    for e in sorted(events, key=lambda e: e.time):
        rule = _RULES.get(e.event)
        if rule is None:
            continue
        kind, cleared = rule
        message = Text(e.event.value, {} if e.battery is None else {"battery": e.battery})
        out.append(
            Finding(
                kind=kind,
                subject_id=e.subject_id,
                time=e.time,
                message=message,
                device_id=e.device_id,
                cleared=cleared,
            )
        )
    return out
