"""The catalogue of texts: every text in both languages with the same values, and the
English exactly as the rules wrote it before there was a catalogue."""

from __future__ import annotations

import string

import pytest

from domain import (
    KIND_NAMES,
    LEVEL_NAMES,
    SEVERITY_NAMES,
    AlertKind,
    Severity,
    SupervisionLevel,
    Text,
    language_of,
    name_of,
    names,
)
from domain.texts import CATALOGUE, LANGUAGES, Language


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_each_text_has_both_languages_with_the_same_values(key: str) -> None:
    english, chinese = CATALOGUE[key]
    assert english
    assert chinese
    assert _fields(english) == _fields(chinese)
    assert not any("\u4e00" <= c <= "\u9fff" for c in english)  # no Chinese in the English
    assert any("\u4e00" <= c <= "\u9fff" for c in chinese)


@pytest.mark.parametrize(
    ("text", "english", "chinese"),
    [
        (
            Text("inclusion_outside", {"m": 452.4}),
            "outside the inclusion zone: 452 m from its boundary",
            "离开活动区域：距边界 452 米",
        ),
        (
            Text("strap_cut", {"battery": 55}),
            "wristband strap cut (battery 55%)",
            "腕带被剪断（电量 55%）",
        ),
        (
            Text("check_in_missed", {"device": "wb-7", "error": "no GNSS"}),
            "check-in request to wb-7 not answered in time (the device said: no GNSS)",
            "设备 wb-7 未按时响应签到（设备回复：no GNSS）",
        ),
        (
            Text("subject_silent"),
            "no device of the subject reports",
            "该对象所有设备均无信号（失联）",
        ),
    ],
)
def test_a_text_renders_in_each_language(text: Text, english: str, chinese: str) -> None:
    assert (str(text), text.render("en"), text.render("zh")) == (english, english, chinese)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh", "zh"),
        ("en-GB,zh;q=0.5", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_the_reader_s_language_is_their_first_choice(header: str | None, language: str) -> None:
    assert language_of(header) == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_severity_and_level_has_a_name_in_each_language(language: Language) -> None:
    named = names(language)
    for table in (KIND_NAMES, SEVERITY_NAMES, LEVEL_NAMES):
        assert all(name_of(n, language).strip() for n in table.values())
    assert len(named) == len(AlertKind) + len(Severity) + len(SupervisionLevel)
    chinese = [any("\u4e00" <= c <= "\u9fff" for c in name) for name in named.values()]
    assert all(chinese) if language == "zh" else not any(chinese)
