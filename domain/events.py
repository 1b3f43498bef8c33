"""What a device says about itself, as opposed to where it is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeviceEvent(StrEnum):
    """Status events on cc/v1/devices/{id}/status (and OwnTracks `lwt` as `offline`)."""

    STRAP_OPENED = "strap_opened"  # wristband clasp opened
    STRAP_CUT = "strap_cut"  # wristband strap severed (tamper)
    REMOVED = "removed"  # wristband off the wrist (skin / proximity sensor)
    POWER_ON = "power_on"
    POWER_OFF = "power_off"
    LOW_BATTERY = "low_battery"
    CHARGING = "charging"
    SOS = "sos"  # the person pressed the emergency button
    NO_FIX = "no_fix"  # alive, with no position to give (a GNSS-only band indoors): heard
    OFFLINE = "offline"  # the broker reported the device's connection lost


@dataclass(frozen=True, slots=True)
class EventReport:
    """A device event as decoded from the wire, with the subject the device is bound to."""

    device_id: int
    subject_id: int
    time: float
    event: DeviceEvent
    battery: int | None
    seq: int | None
    received: float
