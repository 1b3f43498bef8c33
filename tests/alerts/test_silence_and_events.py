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
from tests.alerts.support import batch, policies

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
    # The phone falls silent too: the subject is, one alert for it (the band's stays live).
    found, silence = check(220.0, {10: 95.0, 11: 5.0, 20: 219.0}, silence)
    assert found == [("subject_silent", 1, None, False)]
    assert check(221.0, {10: 95.0, 11: 5.0, 20: 219.0}, silence)[0] == []
    found, _ = check(222.0, {10: 221.0, 11: 5.0, 20: 219.0}, silence)
    assert found == [("subject_silent", 1, None, True)]


def test_one_alert_for_a_subject_silent_on_every_device_then_one_for_the_device_still_silent() -> (
    None
):
    found, silence = check(130.0, {10: 5.0, 11: 5.0, 20: 129.0})
    assert found == [("subject_silent", 1, None, False)]
    # The band speaks again: the subject is back, and now the phone alone is silent.
    back, _ = silence_findings(
        160.0,
        WATCHED,
        {10: 5.0, 11: 159.0, 20: 159.0},
        silence,
        policies=policies([1, 2]),
        watching_since=0.0,
    )
    assert [(f.kind, f.device_id, f.cleared, f.time) for f in back] == [
        ("device_silent", 10, False, 160.0),  # from when it is the only one silent
        ("subject_silent", None, True, 160.0),
    ]


def back(resumed: dict[int, float]) -> str:
    """The text of subject 2's phone coming back at 400 s, silent since it was last heard
    at 100 s (a limit of 120 s), with `resumed`: the earliest report it sent since."""
    silent = Silence(subjects=frozenset({2}), since={20: 100.0})
    found, after = silence_findings(
        400.0,
        WATCHED,
        {10: 399.0, 11: 399.0, 20: 390.0},
        silent,
        policies=policies([1, 2]),
        watching_since=0.0,
        resumed=resumed,
    )
    assert after == Silence()
    (f,) = found
    assert (f.kind, f.subject_id, f.cleared) == ("subject_silent", 2, True)
    return str(f.message)


def test_a_return_says_whether_it_was_a_network_gap_or_a_device_that_measured_nothing() -> None:
    # It measured 60 s after its last report (within its limit): the upload was held back.
    assert back({20: 160.0}) == (
        "a device reporting again: it measured all along, 5 min of reports arrived late"
        " (a network gap)"
    )
    # Its first report after the silence was measured 4 min on: off, flat, or no fix.
    assert back({20: 340.0}) == (
        "a device reporting again after 4 min without measuring anything"
        " (switched off, flat, or no fix)"
    )
    assert back({}) == "a device reports again"  # nothing known (a restart since)


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
    """At once: tamper, SOS, removal, and a charge clearing a low battery. Not at once: a
    power_off (a restart says it too) and a low battery (it may be charged)."""
    found = event_findings(
        [
            event(DeviceEvent.CHARGING, 6.0, battery=12),
            event(DeviceEvent.POWER_ON, 5.0),
            event(DeviceEvent.STRAP_CUT, 3.0),
            event(DeviceEvent.LOW_BATTERY, 1.0, battery=9),
            event(DeviceEvent.OFFLINE, 2.0),
            event(DeviceEvent.POWER_OFF, 4.0),
        ]
    )
    assert [(f.kind, f.severity, f.time, f.cleared, f.device_id) for f in found] == [
        ("tamper", "critical", 3.0, False, 11),
        ("low_battery", "normal", 6.0, True, 11),
    ]


def strict_with(*devices: Device) -> RuleBook:
    """The rules for subjects under strict supervision (silent after 60 s + 120 s; a low
    battery raised after an hour uncharged) with these devices, under orders."""
    subjects = sorted({d.subject_id for d in devices if d.subject_id is not None})
    return RuleBook(
        Registry.build(
            ZoneIndex.build([], []),
            devices=devices,
            assignments=[],
            orders=[MonitoringOrder(s, s, 0.0, 1e6) for s in subjects],
            leaves=[],
            levels=dict.fromkeys(subjects, SupervisionLevel.STRICT),
            policy=DEFAULT_LEVELS,
        ),
        Memory(),
        watching_since=0.0,
    )


def test_a_band_without_a_fix_that_says_so_is_heard_and_not_silent() -> None:
    """Indoors a GNSS-only band has no position to give; its `no_fix` event tells an officer
    nothing, but the band was heard: silence counts from it."""
    said = EventReport(11, 1, 50.0, DeviceEvent.NO_FIX, 80, None, 50.0)
    assert event_findings([said]) == []
    rules = strict_with(Device(11, "wb", DeviceKind.WRISTBAND, 1, active=True))
    heard = rules.hear([said])
    assert heard.last_seen == {11: 50.0}
    rules.apply(heard, versions={})
    assert rules.tick(200.0).findings == []  # 150 s after it spoke: within 60 s + 120 s
    assert [f.kind for f in rules.tick(240.0).findings] == ["subject_silent"]


def test_a_phone_saying_it_has_no_fix_is_not_heard() -> None:
    """A phone always has a network position: one sending only `no_fix` (a client that
    never shows where it is) goes silent like one sending nothing."""
    rules = strict_with(Device(10, "ph", DeviceKind.PHONE, 1, active=True))
    heard = rules.hear([EventReport(10, 1, 50.0, DeviceEvent.NO_FIX, 80, None, 50.0)])
    assert heard.last_seen == {}
    rules.apply(heard, versions={})
    assert [f.kind for f in rules.tick(200.0).findings] == ["subject_silent"]


def reported(rules: RuleBook, times: list[float]) -> None:
    fixes = batch([2] * len(times), times, device=[20] * len(times))
    verdict = rules.judge(fixes, rules.registry.index.evaluate(fixes))
    rules.apply(verdict, versions={})


def test_the_rules_tell_a_buffered_upload_from_a_phone_that_was_off() -> None:
    for first_measured, text in [
        (100.0, "it measured all along, 10 min of reports arrived late (a network gap)"),
        (590.0, "after 9 min without measuring anything"),
    ]:
        rules = strict_with(Device(20, "ph", DeviceKind.PHONE, 2, active=True))
        reported(rules, [40.0])
        rules.apply(rules.tick(300.0), versions={}, now=300.0)  # silent since 40 s
        # At 600 s it reports again: everything measured since `first_measured`, at once.
        reported(rules, [float(t) for t in range(int(first_measured), 600, 60)])
        (found,) = rules.tick(640.0).findings
        assert (found.kind, found.cleared) == ("subject_silent", True)
        assert text in str(found.message)


PHONE = Device(10, "ph", DeviceKind.PHONE, 1, active=True)
BAND = Device(11, "wb", DeviceKind.WRISTBAND, 1, active=True)


def said(rules: RuleBook, device: Device, t: float, what: DeviceEvent, battery: int = 50) -> None:
    assert device.subject_id is not None
    report = EventReport(device.id, device.subject_id, t, what, battery, None, t)
    rules.apply(rules.hear([report]), versions={})


def ticked(rules: RuleBook, now: float) -> list[tuple[str, int | None, bool, str]]:
    verdict = rules.tick(now)
    rules.apply(verdict, versions={}, now=now)
    return [(f.kind, f.device_id, f.cleared, str(f.message)) for f in verdict.findings]


def test_a_phone_restarted_raises_nothing() -> None:
    rules = strict_with(PHONE)
    said(rules, PHONE, 30.0, DeviceEvent.POWER_OFF, 60)
    said(rules, PHONE, 90.0, DeviceEvent.POWER_ON, 60)
    assert ticked(rules, 200.0) == []  # within 180 s of its power_on


def test_a_device_that_said_power_off_and_stays_silent_is_switched_off() -> None:
    rules = strict_with(PHONE, BAND)
    said(rules, PHONE, 30.0, DeviceEvent.POWER_OFF, 3)
    said(rules, BAND, 200.0, DeviceEvent.NO_FIX)
    assert ticked(rules, 211.0) == [
        ("power_off", 10, False, "phone switched off (it said so) and silent for over 3 min")
    ]
    said(rules, PHONE, 300.0, DeviceEvent.POWER_ON, 3)
    assert [(k, d, c) for k, d, c, _ in ticked(rules, 301.0)] == [("power_off", 10, True)]
    # Alone, it is the subject's silence, saying so.
    alone = strict_with(PHONE)
    said(alone, PHONE, 30.0, DeviceEvent.POWER_OFF, 3)
    assert ticked(alone, 211.0) == [
        (
            "subject_silent",
            None,
            False,
            "no device of the subject reports: switched off (it said so)",
        )
    ]


def test_a_low_battery_is_raised_only_if_not_charged_within_an_hour() -> None:
    rules = strict_with(PHONE)
    said(rules, PHONE, 10.0, DeviceEvent.LOW_BATTERY, 9)
    said(rules, PHONE, 3000.0, DeviceEvent.CHARGING, 10)
    assert [f for f in ticked(rules, 4000.0) if f[0] == "low_battery"] == []
    said(rules, PHONE, 5000.0, DeviceEvent.LOW_BATTERY, 9)
    assert [f for f in ticked(rules, 8590.0) if f[0] == "low_battery"] == []
    assert [f for f in ticked(rules, 8600.0) if f[0] == "low_battery"] == [
        ("low_battery", 10, False, "battery low: remind the subject (battery 9%)")
    ]
    assert [f for f in ticked(rules, 9000.0) if f[0] == "low_battery"] == []  # once
