"""The faked-location rule (alerts/suspect.py): each signal raised once where it is meant to
be, never on an ordinary track (jitter, thrown fixes, a stale cached fix, redeliveries and
fixes out of order), the real phone trace included; and the same however the fixes are
split into batches."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.suspect import M_PER_DEG, Partners, SuspectPolicy, no_checks, suspect_findings
from ccmon.bench.suspect import real_trace
from domain import AlertKind, FixBatch, FixSource, Positions, Text

if TYPE_CHECKING:
    from pathlib import Path

    from domain import Finding

POLICY = SuspectPolicy()
LON0, LAT0 = 104.06, 30.66
K = M_PER_DEG * math.cos(math.radians(LAT0))
PHONE, BAND = 11, 12


def fixes(
    time: np.ndarray,
    east: np.ndarray,
    north: np.ndarray,
    accuracy: np.ndarray | float = 10.0,
    *,
    device: int = PHONE,
    source: FixSource = FixSource.GNSS,
    seq: np.ndarray | None = None,
    mock: np.ndarray | None = None,
) -> FixBatch:
    n = time.shape[0]
    return FixBatch(
        subject=np.full(n, 1, np.int64),
        device=np.full(n, device, np.int64),
        time=time.astype(np.float64),
        lon=LON0 + east / K,
        lat=LAT0 + north / M_PER_DEG,
        accuracy=np.broadcast_to(np.asarray(accuracy, np.float64), (n,)).copy(),
        source=[source] * n,
        battery=np.full(n, -1, np.int16),
        seq=np.arange(n, dtype=np.int64) if seq is None else seq,
        received=time.astype(np.float64),
        mock=np.zeros(n, np.bool_) if mock is None else mock,
    )


def join(*batches: FixBatch) -> FixBatch:
    def cat(name: str) -> Any:
        return np.concatenate([getattr(b, name) for b in batches])

    return FixBatch(
        subject=cat("subject"),
        device=cat("device"),
        time=cat("time"),
        lon=cat("lon"),
        lat=cat("lat"),
        accuracy=cat("accuracy"),
        source=[s for b in batches for s in b.source],
        battery=cat("battery"),
        seq=cat("seq"),
        received=cat("received"),
        mock=cat("mock"),
    )


def key(f: Finding) -> str:
    assert isinstance(f.message, Text)
    return f.message.key


def number(f: Finding, name: str) -> float:
    assert isinstance(f.message, Text)
    return float(f.message.params[name])


def judged(
    batch: FixBatch,
    *,
    cuts: list[int] | None = None,
    policy: SuspectPolicy = POLICY,
    partner: dict[int, int] | None = None,
) -> list[Finding]:
    """The findings over the batch in arrival order, split at `cuts` (rows) into
    batches that each carry the checks on."""
    checks: Positions = no_checks()
    bounds = [0, *sorted({min(c, len(batch)) for c in cuts or []}), len(batch)]
    found: list[Finding] = []
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        new, moved = suspect_findings(
            batch.take(np.arange(a, b)),
            checks,
            partner=Partners.of(partner or {}),
            policy=policy,
        )
        found += new
        checks = checks.newer(moved)
    return found


def ordinary(rng: np.random.Generator, n: int, *, thrown: bool = True) -> FixBatch:
    """A phone's day-like track: still, then moving at up to 35 m/s, fixes every 5-120 s
    jittered within their accuracy (5-60 m); `thrown`: now and then one thrown up to 20 km
    off, or a stale cached fix (one of the last few, the very copy) coming back for up to
    two minutes."""
    gaps = rng.uniform(5, 120, n)
    time = np.cumsum(gaps)
    speed = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 35, n))
    heading = np.cumsum(rng.normal(0, 0.3, n))
    east = np.cumsum(speed * gaps * np.cos(heading))
    north = np.cumsum(speed * gaps * np.sin(heading))
    accuracy = rng.uniform(5, 60, n)
    east += rng.normal(0, 1, n) * accuracy / 2
    north += rng.normal(0, 1, n) * accuracy / 2
    if not thrown:
        return fixes(time, east, north, accuracy)
    off = rng.random(n) < 0.02
    east[off] += rng.uniform(-20_000, 20_000, int(off.sum()))
    for i in np.flatnonzero(rng.random(n) < 0.01).tolist():
        back = max(0, i - int(rng.integers(1, 8)))
        span = time[i] + 120.0
        j = i
        while j < n and time[j] <= span:
            east[j], north[j], accuracy[j] = east[back], north[back], accuracy[back]
            j += 1
    return fixes(time, east, north, accuracy)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_an_ordinary_track_raises_nothing_however_it_is_batched(seed: int, cuts: list[int]) -> None:
    assert judged(ordinary(np.random.default_rng(seed), 400), cuts=cuts) == []


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    km=st.floats(15, 2000),
    held_s=st.floats(310, 3600),
    cuts=st.lists(st.integers(0, 300), max_size=6),
)
def test_a_jump_that_holds_is_raised_once_with_how_far(
    seed: int, km: float, held_s: float, cuts: list[int]
) -> None:
    rng = np.random.default_rng(seed)
    before = ordinary(rng, 150, thrown=False)
    t0 = float(before.time[-1]) + 30.0
    there = np.arange(t0, t0 + held_s, 30.0)
    jitter = rng.normal(0, 5, (2, there.shape[0]))
    # measured from where the track ended
    east0 = (float(before.lon[-1]) - LON0) * K
    north0 = (float(before.lat[-1]) - LAT0) * M_PER_DEG
    far = fixes(
        there,
        east0 + km * 1000 + jitter[0],
        north0 + jitter[1],
        10.0,
        seq=150 + np.arange(len(there)),
    )
    found = judged(join(before, far), cuts=cuts)
    assert len(found) == 1, found
    f = found[0]
    assert f.kind is AlertKind.SUSPECT_LOCATION
    assert f.device_id == PHONE
    assert key(f) == "suspect_jump"
    assert f.time - t0 >= POLICY.confirm_s
    assert abs(number(f, "km") - km) < 0.05 * km + 0.2


def test_the_first_fix_after_a_silence_is_no_jump() -> None:
    """A stale cached fix as the device wakes, then its real track 30 km away: nothing
    established where it was before."""
    stale = fixes(np.array([0.0]), np.array([0.0]), np.array([0.0]))
    t = np.arange(60.0, 1200.0, 30.0)
    real = fixes(t, 30_000 + 10 * t, np.zeros_like(t), seq=1 + np.arange(t.shape[0]))
    assert judged(join(stale, real)) == []


def test_a_clock_set_back_is_raised_and_fixes_out_of_order_are_not() -> None:
    t = np.arange(0.0, 600.0, 30.0)
    ahead = fixes(t, np.zeros_like(t), np.zeros_like(t), seq=np.arange(t.shape[0]))
    # delivered late and out of order (their numbers say so): nothing
    late = ahead.take(np.array([5, 3, 7]))
    # replayed: yesterday's fixes numbered on
    replay_t = t - 86400.0
    replay = fixes(replay_t, np.zeros_like(t), np.zeros_like(t), seq=100 + np.arange(t.shape[0]))
    found = judged(join(ahead, late, replay))
    assert [key(f) for f in found] == ["suspect_backwards"]
    assert number(found[0], "min") > 1400
    # a clock a few minutes off is drift
    drift = fixes(t[:3] + 300.0, np.zeros(3), np.zeros(3), seq=np.array([30, 31, 32]))
    again = fixes(t[:3] + 200.0, np.zeros(3), np.zeros(3), seq=np.array([33, 34, 35]))
    assert judged(join(ahead, drift, again)) == []


def test_frozen_coordinates_and_a_steady_accuracy_are_raised_once_each() -> None:
    t = np.arange(0.0, 3 * 3600.0, 60.0)
    n = t.shape[0]
    frozen = fixes(t, np.full(n, 5.0), np.full(n, 7.0), rng_accuracy(n))
    found = judged(frozen, cuts=[17, 90, 91])
    assert [key(f) for f in found] == ["suspect_frozen"]
    assert found[0].time - t[0] >= POLICY.perfect_s
    rng = np.random.default_rng(1)
    steady = fixes(t, rng.normal(0, 3, n), rng.normal(0, 3, n), 3.0)
    assert [key(f) for f in judged(steady)] == ["suspect_steady"]
    # Wi-Fi positions repeat (the same access points, the same answer): not GNSS, no sign
    wifi = fixes(t, np.full(n, 5.0), np.full(n, 7.0), 30.0, source=FixSource.WIFI)
    assert judged(wifi) == []
    # a real receiver at rest wanders and re-estimates
    jittered = fixes(t, rng.normal(0, 3, n), rng.normal(0, 3, n), rng_accuracy(n))
    assert judged(jittered) == []


def rng_accuracy(n: int) -> np.ndarray:
    return np.round(np.random.default_rng(7).uniform(4, 15, n), 1)


def test_a_mock_provider_is_raised_when_it_starts() -> None:
    t = np.arange(0.0, 1200.0, 30.0)
    n = t.shape[0]
    mock = (t >= 300) & (t < 600) | (t >= 900)
    batch = fixes(t, np.zeros(n), np.zeros(n), rng_accuracy(n), mock=mock)
    found = judged(batch, cuts=[12, 13])
    assert [key(f) for f in found] == ["suspect_mock"] * 2
    assert [f.time for f in found] == [300.0, 900.0]


def test_a_device_toggling_its_signs_raises_once_a_confirmation_at_most() -> None:
    """Hostile or broken: the mock flag on and off, and the clock an hour back and forth,
    fix after fix: the alert repeats now and then, not at every message."""
    t = np.arange(0.0, 1200.0, 30.0)
    n = t.shape[0]
    toggling = np.arange(n) % 2 == 0
    mocked = fixes(t, np.zeros(n), np.zeros(n), rng_accuracy(n), mock=toggling)
    assert [f.time for f in judged(mocked, cuts=[7, 8])] == [0.0, 300.0, 600.0, 900.0]
    swinging = fixes(np.where(toggling, t, t - 3600.0), np.zeros(n), np.zeros(n))
    found = judged(swinging)
    assert {key(f) for f in found} == {"suspect_backwards"}
    assert len(found) == 4  # of 20 swings back, one in each 300 s


def band_walks_off(phone_source: FixSource, *, phone_still: bool = True) -> FixBatch:
    """A phone at home (still or with the person) and a wristband leaving at 1.5 m/s
    after 10 minutes, both reporting every 30 s for an hour."""
    t = np.arange(0.0, 3600.0, 30.0)
    n = t.shape[0]
    rng = np.random.default_rng(3)
    walked = np.clip(t - 600.0, 0, None) * 1.5
    band = fixes(t + 1, rng.normal(0, 4, n), walked + rng.normal(0, 4, n), 8.0, device=BAND)
    phone_north = np.zeros(n) if phone_still else walked
    phone = fixes(
        t, rng.normal(0, 4, n), phone_north + rng.normal(0, 4, n), 12.0, source=phone_source
    )
    rows = np.argsort(np.concatenate([phone.time, band.time]), kind="stable")
    return join(phone, band).take(rows)


def test_a_phone_claiming_gnss_still_while_the_band_travels_is_raised_on_the_phone() -> None:
    pair = {PHONE: BAND, BAND: PHONE}
    found = judged(band_walks_off(FixSource.GNSS), partner=pair, cuts=[40, 41, 100])
    assert [(key(f), f.device_id) for f in found] == [("suspect_still", PHONE)]
    f = found[0]
    assert number(f, "min") >= POLICY.still_s / 60
    assert number(f, "km") > POLICY.apart_m / 1000
    # a phone left at home on Wi-Fi is the separation rule's, not a sign of faking
    assert judged(band_walks_off(FixSource.WIFI), partner=pair) == []
    # both with the person: nothing
    assert judged(band_walks_off(FixSource.GNSS, phone_still=False), partner=pair) == []
    # not a pair (one of them unbound): nothing to compare with
    assert judged(band_walks_off(FixSource.GNSS)) == []


def test_the_real_trace_raises_nothing(realdata: Path) -> None:
    """52 minutes on a train with a phone that falls back to one stale cached position
    (6.8093 E 46.9270 N) again and again for up to 107 s, jumping up to 15 km in 5 s and
    back, and writes its fixes slightly out of order (up to 0.6 s)."""
    trace = real_trace(realdata)
    assert judged(trace, cuts=list(range(0, len(trace), 17))) == []
    # and the stale fallbacks are jumps by speed: only their not holding spares them
    hasty = SuspectPolicy(confirm_s=20.0)
    assert judged(trace, policy=hasty) != []
