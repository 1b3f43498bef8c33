"""Settings refuse levels that cannot be meant, saying which value is wrong."""

from __future__ import annotations

import json
from dataclasses import asdict

import pydantic
import pytest

from ccmon.settings import Settings
from domain import DEFAULT_LEVELS, SupervisionLevel


def levels_with(**change: float) -> str:
    levels = {level.value: asdict(policy) for level, policy in DEFAULT_LEVELS.items()}
    levels["normal"].update(change)
    return json.dumps(levels)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"confirm_s": 0}, "levels.normal.confirm_s must be > 0"),
        ({"night_starts_h": 25}, "the night's hours are 0-24 after midnight"),
        ({"night_starts_h": 24, "night_ends_h": 24}, "the night must end at another hour"),
    ],
)
def test_levels_that_cannot_be_meant_are_refused(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, float], says: str
) -> None:
    monkeypatch.setenv("CCMON_LEVELS", levels_with(**change))
    with pytest.raises(pydantic.ValidationError, match=says):
        Settings()


def test_a_night_from_midnight_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCMON_LEVELS", levels_with(night_starts_h=24, night_ends_h=6))
    assert Settings().levels[SupervisionLevel.NORMAL].night_ends_h == 6
