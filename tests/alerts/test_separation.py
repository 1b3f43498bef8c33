"""Phone-wristband separation: pairing fixes, confirming over time, against a plain loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import metres_apart, separation_findings
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
        state or {},
        policies=policies([1, 2]),
        paired=np.array(paired, dtype=np.int64),
    )
    return [(f.subject_id, f.time, not f.cleared) for f in findings], new_state


def test_apart_for_long_enough_raises_once_and_together_again_clears() -> None:
    fixes = [(1, float(t), PHONE, 0.0) for t in range(0, 40, 2)]
    fixes += [(1, t + 1.0, BAND, 500.0 if t < 20 else 5.0) for t in range(0, 40, 2)]
    found, state = judge(fixes)
    # Apart from t=1 (first pair) on: confirmed 10 s later; together from t=21, 10 s later.
    assert found == [(1, 11.0, True), (1, 31.0, False)]
    assert state[1].run.active is False


def test_a_distance_the_accuracies_could_explain_proves_nothing() -> None:
    fixes = [(1, float(t), PHONE, 0.0) for t in range(0, 60, 5)]
    fixes += [(1, t + 1.0, BAND, 110.0) for t in range(0, 60, 5)]  # 110 m -/+ 2 x 10 m
    found, state = judge(fixes)
    assert found == []
    assert state[1].run.run == 0


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


def slow_pairs(
    fixes: list[tuple[int, float, int, float]],
) -> list[tuple[int, float, bool, bool]]:
    """Observations by the obvious loop: each fix against the newest earlier fix of the
    subject's other device."""
    out = []
    by_subject: dict[int, list[tuple[float, int, float]]] = {}
    for s, t, d, east in sorted(fixes, key=lambda f: (f[0], f[1])):
        history = by_subject.setdefault(s, [])
        others = [h for h in history if (h[1] // 100 == 2) != (d // 100 == 2)]
        if others:
            ot, _, oeast = others[-1]
            (lon1, lat1), (lon2, lat2) = offset(east, 0.0), offset(oeast, 0.0)
            apart = float(
                metres_apart(
                    np.array([lon1]), np.array([lat1]), np.array([lon2]), np.array([lat2])
                )[0]
            )
            within = t - ot <= POLICY.pair_window_s
            far, near = apart - 20.0 > POLICY.separation_m, apart + 20.0 <= POLICY.separation_m
            out.append((s, t, far, within and (far or near)))
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
