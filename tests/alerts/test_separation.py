"""Phone-wristband separation: pairing fixes, confirming over time, against a plain loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import separation_findings
from domain import SeparationStates
from geofence import haversine
from tests.alerts.support import POLICY, batch, policies
from tests.alerts.test_confirm import slow_twin
from tests.helpers import offset

if TYPE_CHECKING:
    from domain import SeparationState

PHONE, BAND = 100, 200  # device ids; device // 100 == 2 is a wristband


def judge(
    fixes: list[tuple[int, float, int, float]],
    state: dict[int, SeparationState] | None = None,
    *,
    paired: tuple[int, ...] = (1, 2),
) -> tuple[list[tuple[int, float, bool]], dict[int, SeparationState]]:
    """fixes: (subject, time, device, metres east of the centre)."""
    where = [offset(f[3], 0.0) for f in fixes]
    b = batch(
        [f[0] for f in fixes],
        [f[1] for f in fixes],
        device=[f[2] for f in fixes],
        lon=[w[0] for w in where],
        lat=[w[1] for w in where],
    )
    findings, new_state = separation_findings(
        b,
        b.device // 100 == 2,
        SeparationStates.of(state or {}),
        policies=policies([1, 2]),
        paired=np.array(paired, dtype=np.int64),
    )
    return [(f.subject_id, f.time, not f.cleared) for f in findings], dict(new_state)


def test_apart_for_long_enough_raises_once_and_together_again_clears() -> None:
    fixes = [(1, float(t), PHONE, 0.0) for t in range(0, 40, 2)]
    fixes += [(1, t + 1.0, BAND, 500.0 if t < 20 else 5.0) for t in range(0, 40, 2)]
    found, state = judge(fixes)
    # Apart from t=1 (first pair) on: confirmed 10 s later. Together from t=22: the band's
    # fix at 21 came 495 m in 2 s, so the phone's of 20 may be far behind it (proves nothing);
    # confirmed 10 s later.
    assert found == [(1, 11.0, True), (1, 32.0, False)]
    assert state[1].run.active is False


def test_a_distance_the_accuracies_could_explain_proves_nothing() -> None:
    fixes = [(1, float(t), PHONE, 0.0) for t in range(0, 60, 5)]
    fixes += [(1, t + 1.0, BAND, 110.0) for t in range(0, 60, 5)]  # 110 m -/+ 2 x 10 m
    found, state = judge(fixes)
    assert found == []
    assert state[1].run.run == 0


def test_a_pair_while_moving_allows_for_the_way_covered_between_the_two_fixes() -> None:
    """Phone and band in one car at 15 m/s, each fix of the band 20 s after the phone's:
    300 m apart as measured, together in fact."""
    fixes = [(1, float(t), PHONE, 15.0 * t) for t in range(0, 600, 60)]
    fixes += [(1, t + 20.0, BAND, 15.0 * (t + 20.0)) for t in range(0, 600, 60)]
    found, _ = judge(fixes)
    assert found == []
    # The band walking away from a phone left behind: apart by more than the way covered
    # (1.5 m/s x 20 s) from 140 s on, confirmed at the next pair.
    fixes = [(1, float(t), PHONE, 0.0) for t in range(0, 600, 60)]
    fixes += [(1, t + 20.0, BAND, 1.5 * (t + 20.0)) for t in range(0, 600, 60)]
    assert judge(fixes)[0] == [(1, 200.0, True)]


def test_fixes_too_far_apart_in_time_are_not_compared() -> None:
    fixes = [(1, 0.0, PHONE, 0.0), (1, 100.0, BAND, 5000.0), (1, 200.0, PHONE, 0.0)]
    fixes += [(1, 300.0, BAND, 5000.0)]
    found, state = judge(fixes)
    assert found == []
    assert state[1].run.run == 0


def test_a_pair_is_made_across_batches() -> None:
    _, state = judge([(1, 0.0, PHONE, 0.0)])
    found, state = judge(
        [(1, 1.0, BAND, 900.0), (1, 5.0, PHONE, 0.0), (1, 12.0, BAND, 900.0)], state
    )
    assert found == [(1, 12.0, True)]
    assert state[1].phone is not None
    assert state[1].phone.time == 5.0


def test_subjects_without_both_devices_are_ignored() -> None:
    fixes = [(3, float(t), PHONE, 0.0) for t in range(10)]
    fixes += [(3, t + 0.5, BAND, 5000.0) for t in range(10)]
    found, state = judge(fixes)
    assert found == []
    assert state == {}


def _metres(a: float, b: float) -> float:
    (lon1, lat1), (lon2, lat2) = offset(a, 0.0), offset(b, 0.0)
    return float(haversine(lon1, lat1, lon2, lat2))


def slow_pairs(
    fixes: list[tuple[int, float, int, float]],
) -> list[tuple[int, float, bool, bool]]:
    """Observations by the obvious loop: each fix against the newest earlier fix of the
    subject's other device, allowing for as far as the fix's own device moved since its
    previous fix, at that speed, in the time between the pair; a pair apart by no more than
    that observes them not apart."""
    out = []
    by_subject: dict[int, list[tuple[float, int, float]]] = {}
    for s, t, d, east in sorted(fixes, key=lambda f: (f[0], f[1])):
        history = by_subject.setdefault(s, [])
        band = d // 100 == 2
        others = [h for h in history if (h[1] // 100 == 2) != band]
        mine = [h for h in history if (h[1] // 100 == 2) == band]
        if others:
            ot, _, oeast = others[-1]
            speed = _metres(mine[-1][2], east) / max(t - mine[-1][0], 1.0) if mine else 0.0
            apart, moved = _metres(east, oeast), speed * (t - ot)
            within = t - ot <= POLICY.pair_window_s
            far = apart - 20.0 - moved > POLICY.separation_m
            near = apart + 20.0 + moved <= POLICY.separation_m
            explained = not far and apart - 20.0 > POLICY.separation_m  # breaks a run apart
            out.append((s, t, far, within and (far or near or explained)))
        else:
            out.append((s, t, False, False))
        history.append((t, d, east))
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([1, 2]),
            st.integers(0, 120).map(float),
            st.sampled_from([PHONE, BAND]),
            st.sampled_from([0.0, 50.0, 400.0, 3000.0]),
        ),
        max_size=50,
        unique_by=lambda f: (f[0], f[1]),
    )
)
def test_pairing_and_confirming_match_the_plain_loop(
    fixes: list[tuple[int, float, int, float]],
) -> None:
    found, _ = judge(fixes)
    expected, _ = slow_twin(slow_pairs(fixes), {}, min_run=2**62, min_span=POLICY.separation_s)
    assert found == expected
