"""`ccmon bench alerts`: its accounting (a plant no alert matches is missed, an alert no plant
explains is false, what a violation also causes is not false), and a small county of the
noise-free control group, every kind planted, through the real rules: every plant caught
within its level's limits and not one false alert."""

from __future__ import annotations

import math
from collections import Counter

from alerts import SuspectPolicy
from ccmon.bench.alerts import (
    EARLY_S,
    RESOLVED_AFTER_S,
    START,
    Ledger,
    Raised,
    account,
    live_month,
)
from domain import DEFAULT_LEVELS, AlertKind, Finding
from simulators.month import INTERVAL_S, Month, Plant, Planted

T = START + 86_400.0


def test_a_plant_nothing_raised_is_missed_and_an_alert_no_plant_explains_is_false() -> None:
    cut = Planted(1, Plant.CUT_STRAP, T, T, T + 60)
    dead = Planted(2, Plant.PHONE_DIES, T, T, T + 4 * 3600)
    raised = [
        Raised(2, AlertKind.DEVICE_SILENT, T + 180),  # the dead phone, caught
        Raised(2, AlertKind.SUBJECT_SILENT, T + 240),  # what it also causes
        Raised(3, AlertKind.ZONE_EXIT, T),  # nobody planted it
        Raised(1, AlertKind.ZONE_EXIT, T),  # the strap cut's subject, but not its kind
        Raised(2, AlertKind.DEVICE_SILENT, T - EARLY_S - 1),  # before the window
    ]
    accounts = account([cut, dead], raised)
    assert [(c.plant.kind, c.delay_s) for c in accounts.caught] == [
        (Plant.CUT_STRAP, None),
        (Plant.PHONE_DIES, 180.0),
    ]
    assert accounts.false == [raised[2], raised[3], raised[4]]
    assert accounts.raised == 5


def test_the_control_group_is_caught_every_time_and_never_falsely() -> None:
    month = Month(subjects=40, days=3, start=START, seed=3, plant_share=1.0, control_share=1.0)
    assert {p.kind for p in month.plants} == set(Plant)  # every kind planted
    # The control group's fixes are exact (no receiver noise): at rest, the very same
    # coordinates fix after fix, which the faked-location rule is right to call too perfect.
    real = SuspectPolicy(perfect_s=math.inf)
    accounts = account(month.plants, live_month(month, DEFAULT_LEVELS, real))
    assert accounts.false == []
    level = {p.id: p.level for p in month.people}
    late = [
        (c.plant.kind, c.delay_s, level[c.plant.subject])
        for c in accounts.caught
        if c.delay_s is None or c.delay_s > 4 * INTERVAL_S[level[c.plant.subject]] + 120
    ]
    assert late == []
    assert Counter(c.plant.kind for c in accounts.caught)[Plant.CUT_STRAP] >= 1


def test_a_condition_on_again_while_its_alert_is_live_opens_none() -> None:
    def exit_(at: float, *, cleared: bool = False) -> Finding:
        return Finding(AlertKind.ZONE_EXIT, 1, at, "out", assignment_id=7, cleared=cleared)

    ledger = Ledger()
    ledger.record([exit_(T)], T)
    ledger.record([exit_(T + 60, cleared=True)], T + 60)
    ledger.record([exit_(T + 120)], T + 120)  # the officer has not closed it yet: a repeat
    ledger.record([exit_(T + 180, cleared=True)], T + 180)
    ledger.record([exit_(T + RESOLVED_AFTER_S + 60)], T + RESOLVED_AFTER_S + 60)  # closed: new
    tamper = Finding(AlertKind.TAMPER, 2, T, "strap cut")
    ledger.record([tamper, tamper], T)
    assert [(a.subject, a.kind, a.at) for a in ledger.raised] == [
        (1, AlertKind.ZONE_EXIT, T),
        (1, AlertKind.ZONE_EXIT, T + RESOLVED_AFTER_S + 60),
        (2, AlertKind.TAMPER, T),  # once: the second cut folds into the live alert
    ]
