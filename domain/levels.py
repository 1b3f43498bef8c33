"""Supervision levels (严管 / 普管 / 宽管) as the rules see them: how often each device must
report and how fast a violation is confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from domain.subjects import SupervisionLevel


@dataclass(frozen=True, slots=True)
class LevelPolicy:
    """Per level. A device is silent after `*_interval_s + silence_grace_s` without a report;
    a zone violation is confirmed by `confirm_fixes` consecutive decisive fixes, or by at
    least two spanning `confirm_s`; phone and wristband are apart when their fixes (at most
    `pair_window_s` apart in time) are more than `separation_m` apart beyond both accuracies
    and the way covered between them for `separation_s`. While a pursuit runs (a critical
    alert of a pursuit kind open, not acknowledged, at most `pursuit_max_s`) the subject's
    devices report every `pursuit_interval_s`. A low battery not charged within
    `low_battery_hold_s` is raised. A subject predicted to be inside an exclusion zone within
    `zone_warn_s` is warned of (0: never). The night runs from `night_starts_h` to
    `night_ends_h` (hours after midnight, local time); away from the residence more than
    `night_away_h` of it raises `night_away`."""

    phone_interval_s: float
    wristband_interval_s: float
    silence_grace_s: float
    confirm_fixes: int
    confirm_s: float
    separation_m: float
    separation_s: float
    pair_window_s: float = 120.0
    zone_warn_s: float = 300.0
    pursuit_interval_s: float = 15.0
    pursuit_max_s: float = 1800.0
    # A phone at its low-battery warning (15% on Android) lasts an hour or two on standby:
    # uncharged after an hour, the officer is told while a call can still come in time.
    low_battery_hold_s: float = 3600.0
    # The night, local time (hours after midnight; 24 is midnight): a place stayed at in it
    # away from the residence is marked on the subject's page.
    night_starts_h: float = 23.0
    night_ends_h: float = 5.0
    night_away_h: float = 2.0  # away from the residence longer than this of the night


# Per supervision level (严管 / 普管 / 宽管); ccmon's settings override all three at once
# (CCMON_LEVELS, JSON).
DEFAULT_LEVELS: dict[SupervisionLevel, LevelPolicy] = {
    SupervisionLevel.STRICT: LevelPolicy(
        phone_interval_s=60,
        wristband_interval_s=60,
        silence_grace_s=120,
        confirm_fixes=2,
        confirm_s=60,
        separation_m=100,
        separation_s=120,
    ),
    SupervisionLevel.NORMAL: LevelPolicy(
        phone_interval_s=300,
        wristband_interval_s=300,
        silence_grace_s=300,
        confirm_fixes=3,
        confirm_s=180,
        separation_m=200,
        separation_s=300,
    ),
    SupervisionLevel.LENIENT: LevelPolicy(
        phone_interval_s=900,
        wristband_interval_s=900,
        silence_grace_s=900,
        confirm_fixes=3,
        confirm_s=600,
        separation_m=200,
        separation_s=600,
    ),
}
