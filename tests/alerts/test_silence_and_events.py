"""Rules that need no position: silence on the clock, and what devices say about themselves."""

from __future__ import annotations

import numpy as np

from alerts import Memory, Registry, RuleBook, Silence, Watched, event_findings, silence_findings
from domain import (
    DEFAULT_LEVELS,
    Device,
    DeviceEvent,
    DeviceKind,
    EventReport,
    MonitoringOrder,
    SupervisionLevel,
)
from geofence import ZoneIndex
from tests.alerts.support import policies

# Subject 1: phone 10 (60 s + 60 s grace), wristband 11 (30 s + 60 s); subject 2: phone 20.
WATCHED = Watched(
    device=np.array([10, 11, 20], dtype=np.int64),
    subject=np.array([1, 1, 2], dtype=np.int64),
    wristband=np.array([False, True, False]),
)

NOTHING_SILENT = Silence()


def check(
    now: float, last_seen: dict[int, float], before: Silence = NOTHING_SILENT
) -> tuple[list[tuple[str, int, int | None, bool]], Silence]:
    found, silence = silence_findings(
        now, WATCHED, last_seen, before, policies=policies([1, 2]), watching_since=0.0
    )
    return [(f.kind, f.subject_id, f.device_id, f.cleared) for f in found], silence


def test_a_device_silent_past_its_limit_raises_and_the_subject_when_all_are() -> None:
    found, silence = check(100.0, {10: 95.0, 11: 5.0, 20: 99.0})
    assert found == [("device_silent", 1, 11, False)]
    found, silence = check(220.0, {10: 95.0, 11: 5.0, 20: 219.0}, silence)
    assert found == [("device_silent", 1, 10, False), ("subject_silent", 1, None, False)]
    assert check(221.0, {10: 95.0, 11: 5.0, 20: 219.0}, silence)[0] == []
    found, _ = check(222.0, {10: 221.0, 11: 5.0, 20: 219.0}, silence)
    assert found == [("device_silent", 1, 10, True), ("subject_silent", 1, None, True)]


def test_a_device_never_heard_counts_from_when_watching_began() -> None:
    assert check(80.0, {})[0] == []
    found, _ = check(91.0, {10: 90.0, 20: 90.0})
    assert found == [("device_silent", 1, 11, False)]


def test_a_device_found_silent_and_never_heard_stays_silent_for_a_new_watcher() -> None:
    """A restart (or another process taking the clock rules over) begins watching anew,
    but a device already silent is not cleared by that alone."""
    silent = Silence(devices=frozenset({11}), subjects=frozenset())
    (
        found,
        _,
    ) = silence_findings(
        80.0, WATCHED, {10: 79.0, 20: 79.0}, silent, policies=policies([1, 2]), watching_since=75.0
    )
    assert found == []
    found, _ = silence_findings(
        80.0, WATCHED, {10: 79.0, 11: 79.5}, silent, policies=policies([1, 2]), watching_since=75.0
    )
    assert [(f.kind, f.device_id, f.cleared) for f in found] == [("device_silent", 11, True)]


def event(kind: DeviceEvent, t: float, battery: int | None = None) -> EventReport:
    return EventReport(
        device_id=11, subject_id=1, time=t, event=kind, battery=battery, seq=None, received=t
    )


def test_status_events_become_findings_in_event_time_order() -> None:
    found = event_findings(
        [
            event(DeviceEvent.POWER_ON, 5.0),
            event(DeviceEvent.STRAP_CUT, 3.0),
            event(DeviceEvent.LOW_BATTERY, 1.0, battery=9),
            event(DeviceEvent.OFFLINE, 2.0),
            event(DeviceEvent.POWER_OFF, 4.0),
        ]
    )
    assert [(f.kind, f.severity, f.time, f.cleared, f.device_id) for f in found] == [
        ("low_battery", "normal", 1.0, False, 11),
        ("tamper", "critical", 3.0, False, 11),
        ("power_off", "high", 4.0, False, 11),
        ("power_off", "high", 5.0, True, 11),
    ]
    assert "battery 9%" in str(found[0].message)


def test_a_band_without_a_fix_that_says_so_is_heard_and_not_silent() -> None:
    """Indoors a GNSS-only band has no position to give; its `no_fix` event tells an officer
    nothing, but the band was heard: silence counts from it."""
    said = EventReport(11, 1, 50.0, DeviceEvent.NO_FIX, 80, None, 50.0)
    assert event_findings([said]) == []
    rules = RuleBook(
        Registry.build(
            ZoneIndex.build([], []),
            devices=[Device(11, "wb", DeviceKind.WRISTBAND, 1, active=True)],
            assignments=[],
            orders=[MonitoringOrder(1, 1, 0.0, 1e6)],
            leaves=[],
            levels={1: SupervisionLevel.STRICT},
            policy=DEFAULT_LEVELS,
        ),
        Memory(),
        watching_since=0.0,
    )
    heard = rules.hear([said])
    assert heard.last_seen == {11: 50.0}
    rules.apply(heard, versions={})
    assert rules.tick(200.0).findings == []  # 150 s after it spoke: within 60 s + 120 s
    assert [f.kind for f in rules.tick(240.0).findings] == ["device_silent", "subject_silent"]
