"""Faked locations (虚拟定位): signs that a device's fixes are not where its wearer is.

Location-faking apps and phones handed to someone else show in the fixes themselves. Per
device, a compiled loop takes the fixes in time order and keeps a row of floats (its
check), raising:

- JUMP: the fixes moved faster than any vehicle a subject takes (both accuracies
  allowed for), and stayed there: the new place held `confirm_s` over at least three fixes,
  each too far from the track for an ordinary way (a third of that speed), after a track
  that held as long undisturbed (no fix thrown, no hop faster than a third of that speed,
  no silence). So a jump is found once it is over `max_speed_mps` / 3 x `confirm_s` (12 km
  by default) and over `max_speed_mps` x the fix interval. A phone's stale cached fix,
  returned for a minute or two and then given up (real phones do it: the real trace in the
  tests), is no jump, and the very copy of one of the last distinct fixes is not looked at;
  nor is the way back from a thrown fix the speed let into the track (the fix before it
  vouches for the way), nor a first fix after a silence;
- BACKWARDS: a fix numbered after another (`seq`, the device's own counter) but timed more
  than `clock_drift_s` before it: the device's clock set back, or a recorded day replayed.
  Fixes arriving out of order do not count: their numbers say so;
- FROZEN / STEADY: GNSS fixes with the very same coordinates (zero jitter) or the very
  same accuracy for `perfect_s`: real receivers wander by metres and re-estimate their
  error fix by fix;
- MOCK: the device said its position came from a mock provider (Android tells apps);
- STILL: of a subject's phone and wristband, one claimed only GNSS fixes, within `still_m`
  of one place, for `still_s`, while the other went more than `apart_m` away from that
  place and stayed away `confirm_s`, the still one reporting from there meanwhile: the
  still one is faked, or carried by someone else. (A phone really left at home
  indoors reports Wi-Fi or cell positions: that is the separation rule's.)

Fixes poorer than `max_accuracy_m` prove no jump and no stillness; a fix no newer than the
device's newest (a redelivery, one out of order) moves nothing but the clock check.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import numba as nb
import numpy as np

from domain import AlertKind, Finding, FixSource, Positions, Text
from domain.runs import TIME
from geofence import EARTH_RADIUS_M

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import NDArray

    from domain import FixBatch

    Floats = NDArray[np.float64]
    Ints = NDArray[np.int64]

# After the newest fix (TIME, LON, LAT, ACCURACY): the reference track (R_*: its newest
# fix, since when it is chained, how many fixes chained it); a jump not yet confirmed
# (J_*: its first fix's time, its newest fix, how many, how far and how fast it jumped); the
# highest sequence number and its fix's time; the run of identical GNSS coordinates and
# the run of one accuracy (since, how many, raised); whether the newest fix was mocked; and
# the place the device keeps still at (P_*: since, where, since when its fixes there have
# all been GNSS (NaN: the newest was not), raised).
R_TIME, R_LON, R_LAT, R_ACCURACY, R_SINCE, R_FIXES = range(4, 10)
J_SINCE, J_TIME, J_LON, J_LAT, J_ACCURACY, J_FIXES, J_METRES, J_SPEED = range(10, 18)
SEQ, SEQ_TIME = 18, 19
S_SINCE, S_LON, S_LAT, S_FIXES, S_RAISED = range(20, 25)
A_SINCE, A_ACCURACY, A_FIXES, A_RAISED = range(25, 29)
MOCKED = 29
P_SINCE, P_LON, P_LAT, P_ACCURACY, P_GNSS_SINCE, P_RAISED = range(30, 36)
Q_TIME, Q_LON, Q_LAT, Q_ACCURACY = range(36, 40)  # the track's fix before R_* (NaN: none)
SEEN, SEEN_NEXT = 40, 64  # the last 8 distinct fixes (lon, lat, accuracy), the next slot
_SEEN = 8
W_SINCE, W_ANCHOR = 65, 66  # away from the still partner since, and its place's P_SINCE
RAISED_AT = 67  # the newest finding about the device: the next waits confirm_s
COLUMNS = 68  # device_checks.state's length: a change needs a migration emptying it

M_PER_DEG = math.radians(1.0) * EARTH_RADIUS_M
_CHAIN = 3  # fixes that make a track, and a jump's new place
_CHAIN_GAP_S = 1800.0  # fixes further apart chain no track: any speed was plausible
_HOP_SHARE = 1 / 3  # of max_speed (40 m/s of 120): a faster hop starts the track afresh
_PERFECT_FIXES = 8  # a frozen or steady run needs at least these many fixes


class Signal(IntEnum):
    NONE = 0
    JUMP = 1
    BACKWARDS = 2
    FROZEN = 3
    STEADY = 4
    MOCK = 5
    STILL = 6


# the compiled loop's codes (plain ints: numba takes them as constants)
_JUMP, _BACKWARDS, _FROZEN, _STEADY, _MOCK, _STILL = (int(s) for s in list(Signal)[1:])


@dataclass(frozen=True, slots=True)
class SuspectPolicy:
    max_speed_mps: float = 120.0  # 432 km/h: beyond high-speed rail (350 km/h)
    confirm_s: float = 300.0
    max_accuracy_m: float = 200.0
    clock_drift_s: float = 300.0
    perfect_s: float = 7200.0
    still_s: float = 1800.0
    still_m: float = 30.0
    apart_m: float = 500.0

    def numbers(self) -> Floats:
        """The thresholds as the compiled loop reads them (by the indices below)."""
        return np.array(astuple(self), dtype=np.float64)


MAX_SPEED, CONFIRM, MAX_ACCURACY, DRIFT, PERFECT, STILL_S, STILL_M, APART = range(8)


@dataclass(frozen=True, slots=True)
class Partners:
    """Each device of a subject with one phone and one wristband -> the other, sorted by
    device (built with the registry, looked up a batch at a time)."""

    device: Ints
    other: Ints

    @classmethod
    def of(cls, pairs: Mapping[int, int]) -> Partners:
        keys = sorted(pairs)
        return cls(np.array(keys, np.int64), np.array([pairs[k] for k in keys], np.int64))

    def at(self, devices: Ints) -> Ints:
        """Each device's partner; -1 where it has none."""
        n = self.device.shape[0]
        at = np.searchsorted(self.device, devices)
        known = at < n
        known[known] = self.device[at[known]] == devices[known]
        return np.concatenate([self.other, [-1]])[np.where(known, at, n)]


def no_checks() -> Positions:
    return Positions(np.zeros(0, np.int64), np.zeros((0, COLUMNS)))


@nb.njit(cache=True, error_model="numpy", inline="always")
def _apart(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two points, in the plane at the first one's latitude."""
    east = (lon2 - lon1) * math.cos(math.radians(lat1)) * M_PER_DEG
    north = (lat2 - lat1) * M_PER_DEG
    return math.sqrt(east * east + north * north)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _speed(st: Floats, s: int, at: int, fix: Floats) -> float:
    """How fast the device went from the fix kept at `at` (time, lon, lat, accuracy) in
    row `s` to `fix` (the same four) at least, both accuracies allowed for (m/s)."""
    d = _apart(st[s, at + 1], st[s, at + 2], fix[1], fix[2]) - st[s, at + 3] - fix[3]
    return float(d / max(fix[0] - st[s, at], 1.0))


@nb.njit(cache=True, error_model="numpy", inline="always")
def _reachable(st: Floats, s: int, at: int, fix: Floats, max_speed: float) -> bool:
    return _speed(st, s, at, fix) <= max_speed


@nb.njit(cache=True, error_model="numpy", inline="always")
def _seen(st: Floats, s: int, fix: Floats) -> bool:
    """Is `fix` the very copy of one of the device's last distinct fixes (a stale cached
    fix handed out again)? It says nothing of where the device is now. Else it is kept."""
    for k in range(_SEEN):
        at = SEEN + 3 * k
        if st[s, at] == fix[1] and st[s, at + 1] == fix[2] and st[s, at + 2] == fix[3]:
            return True
    nxt = 0 if math.isnan(st[s, SEEN_NEXT]) else int(st[s, SEEN_NEXT])
    at = SEEN + 3 * nxt
    st[s, at], st[s, at + 1], st[s, at + 2] = fix[1], fix[2], fix[3]
    st[s, SEEN_NEXT] = (nxt + 1) % _SEEN
    return False


@nb.njit(cache=True, error_model="numpy", inline="always")
def _extend(st: Floats, s: int, fix: Floats) -> None:
    """The track goes on to `fix`."""
    st[s, Q_TIME : Q_TIME + 4] = st[s, R_TIME : R_TIME + 4]
    st[s, R_TIME : R_TIME + 4] = fix
    st[s, R_FIXES] += 1.0


@nb.njit(cache=True, error_model="numpy", inline="always")
def _jump(st: Floats, s: int, fix: Floats) -> None:
    """`fix` is out of the track's reach: a jump, to be confirmed."""
    t = fix[0]
    metres = _apart(st[s, R_LON], st[s, R_LAT], fix[1], fix[2])
    st[s, J_SINCE], st[s, J_FIXES] = t, 1.0
    st[s, J_TIME : J_TIME + 4] = fix
    st[s, J_METRES], st[s, J_SPEED] = metres, metres / max(t - st[s, R_TIME], 1.0)


@nb.njit(cache=True, error_model="numpy", inline="always")
def _held(st: Floats, s: int, fix: Floats, confirm_s: float) -> tuple[int, float, float]:
    """`fix` is where the jump went: (JUMP, km, km/h) once it held."""
    st[s, J_TIME : J_TIME + 4] = fix
    st[s, J_FIXES] += 1.0
    if fix[0] - st[s, J_SINCE] < confirm_s or st[s, J_FIXES] < _CHAIN:
        return 0, 0.0, 0.0
    # the new place held: it is the track now, whether the old one was one or not
    found = st[s, R_FIXES] >= _CHAIN and st[s, R_TIME] - st[s, R_SINCE] >= confirm_s
    metres, speed = st[s, J_METRES], st[s, J_SPEED]
    st[s, R_TIME : R_TIME + 4] = fix
    st[s, R_SINCE], st[s, R_FIXES] = st[s, J_SINCE], st[s, J_FIXES]
    st[s, J_SINCE], st[s, Q_TIME] = np.nan, np.nan
    return (_JUMP if found else 0), metres / 1000.0, speed * 3.6


@nb.njit(cache=True, error_model="numpy", inline="always")
def _track(st: Floats, s: int, fix: Floats, p: Floats) -> tuple[int, float, float]:
    """The jump check at a good fix: (JUMP, km, km/h) once a jump is confirmed."""
    max_speed, t = p[MAX_SPEED], fix[0]
    if math.isnan(st[s, R_TIME]):
        st[s, R_TIME : R_TIME + 4] = fix
        st[s, R_SINCE], st[s, R_FIXES] = t, 1.0
        return 0, 0.0, 0.0
    from_track = _speed(st, s, R_TIME, fix)
    if not math.isnan(st[s, J_SINCE]):
        # with the jump, while no ordinary way from the track explains it (in time, any
        # place is reachable; the one it is nearer to by speed)
        from_jump = _speed(st, s, J_TIME, fix)
        ordinary = from_track <= max_speed * _HOP_SHARE
        if from_jump <= max_speed and from_jump <= from_track and not ordinary:
            return _held(st, s, fix, p[CONFIRM])
        if from_track <= max_speed:  # the jump was a thrown fix
            _extend(st, s, fix)
            _afresh(st, s, t)
        elif _thrown(st, s, fix, max_speed):
            _afresh(st, s, t)
        else:
            _jump(st, s, fix)
    elif from_track <= max_speed:
        _extend(st, s, fix)
        # a hop this fast is more likely a fix thrown (or stale) than a way travelled
        if t - st[s, Q_TIME] > _CHAIN_GAP_S or from_track > max_speed * _HOP_SHARE:
            _afresh(st, s, t)
    elif _thrown(st, s, fix, max_speed):
        _afresh(st, s, t)
    else:
        _jump(st, s, fix)
    return 0, 0.0, 0.0


@nb.njit(cache=True, error_model="numpy", inline="always")
def _afresh(st: Floats, s: int, t: float) -> None:
    """Something was amiss with the track (a fix thrown, a jump that did not hold, a
    silence): it counts as established only from `t` on, and no jump is pending."""
    st[s, R_SINCE], st[s, R_FIXES], st[s, J_SINCE] = t, 1.0, np.nan


@nb.njit(cache=True, error_model="numpy", inline="always")
def _thrown(st: Floats, s: int, fix: Floats, max_speed: float) -> bool:
    """Was the track's newest fix a thrown one the speed let in? So if `fix`, out of its
    reach, is an ordinary way (a third of the jump speed) from the fix before it; `fix`
    then takes the newest's place."""
    if math.isnan(st[s, Q_TIME]) or _speed(st, s, Q_TIME, fix) > max_speed * _HOP_SHARE:
        return False
    st[s, R_TIME : R_TIME + 4] = fix
    return True


@nb.njit(cache=True, error_model="numpy", inline="always")
def _perfect(st: Floats, s: int, fix: Floats, perfect_s: float) -> tuple[int, float, float]:
    """The runs of identical coordinates and of one accuracy at a GNSS fix: (FROZEN or
    STEADY, hours, fixes) when one reaches `perfect_s`."""
    t = fix[0]
    if st[s, S_LON] == fix[1] and st[s, S_LAT] == fix[2]:
        st[s, S_FIXES] += 1.0
    else:
        st[s, S_SINCE], st[s, S_LON], st[s, S_LAT] = t, fix[1], fix[2]
        st[s, S_FIXES], st[s, S_RAISED] = 1.0, 0.0
    if st[s, A_ACCURACY] == fix[3]:
        st[s, A_FIXES] += 1.0
    else:
        st[s, A_SINCE], st[s, A_ACCURACY], st[s, A_FIXES], st[s, A_RAISED] = t, fix[3], 1.0, 0.0
    frozen_s, steady_s = t - st[s, S_SINCE], t - st[s, A_SINCE]
    if st[s, S_RAISED] == 0.0 and st[s, S_FIXES] >= _PERFECT_FIXES and frozen_s >= perfect_s:
        st[s, S_RAISED] = 1.0
        return _FROZEN, frozen_s / 3600.0, st[s, S_FIXES]
    if st[s, A_RAISED] == 0.0 and st[s, A_FIXES] >= _PERFECT_FIXES and steady_s >= perfect_s:
        st[s, A_RAISED] = 1.0
        return _STEADY, steady_s / 3600.0, st[s, A_FIXES]
    return 0, 0.0, 0.0


@nb.njit(cache=True, error_model="numpy", inline="always")
def _still(st: Floats, s: int, fix: Floats, gnss: bool, still_m: float) -> None:
    """The place the device keeps still at, after a good fix."""
    d = _apart(st[s, P_LON], st[s, P_LAT], fix[1], fix[2]) - st[s, P_ACCURACY] - fix[3]
    if not d <= still_m:  # (NaN: no place yet)
        st[s, P_SINCE : P_SINCE + 4] = fix
        st[s, P_GNSS_SINCE], st[s, P_RAISED] = np.nan, 0.0
    if not gnss:
        st[s, P_GNSS_SINCE] = np.nan
    elif math.isnan(st[s, P_GNSS_SINCE]):
        st[s, P_GNSS_SINCE] = fix[0]


@nb.njit(cache=True, error_model="numpy", inline="always")
def _left_behind(st: Floats, s: int, o: int, fix: Floats, p: Floats) -> tuple[int, float, float]:
    """At a fix of row `s`: has the partner row `o` claimed only GNSS fixes, still at one
    place, for `still_s`, while this device went `apart_m` beyond it, and stayed beyond
    `confirm_s` with the partner still reporting from there (the one that lags behind a
    departure is not still)? (STILL, minutes still, km apart)"""
    confirm_s, still_s, apart_m = p[CONFIRM], p[STILL_S], p[APART]
    t = fix[0]
    if o < 0 or st[o, P_RAISED] == 1.0 or not t - st[o, P_GNSS_SINCE] >= still_s:
        st[s, W_SINCE] = np.nan
        return 0, 0.0, 0.0
    d = _apart(st[o, P_LON], st[o, P_LAT], fix[1], fix[2])
    # this one moved since the partner kept still, and is away from it
    away = st[s, P_SINCE] > st[o, P_GNSS_SINCE] and d - st[o, P_ACCURACY] - fix[3] > apart_m
    if not away:
        st[s, W_SINCE] = np.nan
        return 0, 0.0, 0.0
    if math.isnan(st[s, W_SINCE]) or st[s, W_ANCHOR] != st[o, P_SINCE]:
        st[s, W_SINCE], st[s, W_ANCHOR] = t, st[o, P_SINCE]
    if t - st[s, W_SINCE] < confirm_s or not st[o, TIME] > st[s, W_SINCE]:
        return 0, 0.0, 0.0
    st[o, P_RAISED] = 1.0
    return _STILL, (t - st[o, P_GNSS_SINCE]) / 60.0, d / 1000.0


@nb.njit(cache=True, error_model="numpy")
def _check(
    row: Ints,
    partner: Ints,
    fixes: tuple[Floats, Floats, Floats, Floats],
    seq: Ints,
    flags: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    st: Floats,
    p: Floats,
) -> tuple[NDArray[np.int8], Floats]:
    """Each fix, in the order they came (each device's in its own), moving its device's
    row `row` of `st` (`partner`: the row of the subject's other device, or -1), and what
    it raised: a Signal and two numbers of evidence, in the message's units. A device
    raises at most once a `confirm_s` (one toggling its mock flag, or its clock, fix after
    fix, makes its alert repeat now and then, not at every message)."""
    time, lon, lat, accuracy = fixes
    gnss, mock = flags
    n = row.shape[0]
    signal = np.zeros(n, np.int8)
    evidence = np.zeros((n, 2))
    fix = np.empty(4)
    for f in range(n):
        s, t = row[f], time[f]
        code, a, b = 0, 0.0, 0.0
        if seq[f] >= 0 and not seq[f] <= st[s, SEQ]:  # (NaN: nothing numbered yet)
            if t < st[s, SEQ_TIME] - p[DRIFT]:
                code, a, b = _BACKWARDS, (st[s, SEQ_TIME] - t) / 60.0, float(seq[f])
            st[s, SEQ], st[s, SEQ_TIME] = seq[f], t
        if math.isnan(st[s, TIME]) or t > st[s, TIME]:
            fix[0], fix[1], fix[2], fix[3] = t, lon[f], lat[f], accuracy[f]
            st[s, TIME : TIME + 4] = fix
            if code == 0 and mock[f] and st[s, MOCKED] != 1.0:
                code = _MOCK
            st[s, MOCKED] = 1.0 if mock[f] else 0.0
            if accuracy[f] <= p[MAX_ACCURACY]:
                found, x, y = _moved(st, s, partner[f], fix, gnss[f], p)
                if code == 0:
                    code, a, b = found, x, y
        about = partner[f] if code == _STILL else s
        if code != 0 and not t - st[about, RAISED_AT] < p[CONFIRM]:  # (NaN: never raised)
            st[about, RAISED_AT] = t
            signal[f], evidence[f, 0], evidence[f, 1] = code, a, b
    return signal, evidence


@nb.njit(cache=True, error_model="numpy", inline="always")
def _moved(
    st: Floats, s: int, o: int, fix: Floats, gnss: bool, p: Floats
) -> tuple[int, float, float]:
    """The checks a good, new fix moves on: a jump, a too perfect run, its still place and
    whether it left its partner `o` still; what the first that raised found."""
    found, x, y = (0, 0.0, 0.0) if _seen(st, s, fix) else _track(st, s, fix, p)
    if found == 0 and gnss:
        found, x, y = _perfect(st, s, fix, p[PERFECT])
    _still(st, s, fix, gnss, p[STILL_M])
    if found == 0:
        found, x, y = _left_behind(st, s, o, fix, p)
    return found, x, y


_TEXTS = {
    Signal.JUMP: ("suspect_jump", "km", "kmh"),
    Signal.BACKWARDS: ("suspect_backwards", "min", "seq"),
    Signal.FROZEN: ("suspect_frozen", "h", "n"),
    Signal.STEADY: ("suspect_steady", "h", "n"),
    Signal.MOCK: ("suspect_mock",),
    Signal.STILL: ("suspect_still", "min", "km"),
}


def _evidence(signal: Signal, numbers: Floats) -> Text:
    key, *names = _TEXTS[signal]
    return Text(key, dict(zip(names, numbers.tolist(), strict=False)))


def suspect_findings(
    batch: FixBatch,
    checks: Positions,
    *,
    partner: Partners,
    policy: SuspectPolicy,
) -> tuple[list[Finding], Positions]:
    """Findings for fixes that look faked, and the checks of the devices that reported."""
    if not len(batch):
        return [], no_checks()
    devices = np.unique(batch.device)
    others = partner.at(devices)
    keys = np.union1d(devices, others[others >= 0])
    st = np.ascontiguousarray(checks.at(keys))
    row = np.searchsorted(keys, batch.device)
    other = others[np.searchsorted(devices, batch.device)]
    partner_row = np.where(other >= 0, np.searchsorted(keys, other), -1)
    gnss = np.array([s is FixSource.GNSS for s in batch.source], dtype=np.bool_)
    signal, evidence = _check(
        row,
        partner_row,
        (batch.time, batch.lon, batch.lat, batch.accuracy),
        batch.seq,
        (gnss, batch.mock),
        st,
        policy.numbers(),
    )
    findings = []
    for f in np.flatnonzero(signal).tolist():
        kind = Signal(int(signal[f]))
        device = int(other[f]) if kind is Signal.STILL else int(batch.device[f])
        findings.append(
            Finding(
                kind=AlertKind.SUSPECT_LOCATION,
                subject_id=int(batch.subject[f]),
                time=float(batch.time[f]),
                message=_evidence(kind, evidence[f]),
                device_id=device,
                lon=float(batch.lon[f]),
                lat=float(batch.lat[f]),
            )
        )
    seen = ~np.isnan(st[:, TIME])
    return findings, Positions(keys[seen], st[seen])
