"""Words for people, in Chinese and English: what the rules say about an alert, as a key into
one catalogue with its values, rendered in the reader's language where it is shown (the API,
and through it the console). The English rendering is what the store keeps as the alert's
message, and what the webhook body carries. What the vocabulary is called: domain.names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")
Value = str | int | float

# key: (English, Chinese); values are str.format fields of the text's params.
CATALOGUE: dict[str, tuple[str, str]] = {
    "exclusion_entered": (
        "entered the exclusion zone: {m:.0f} m inside",
        "进入禁止进入区域：深入 {m:.0f} 米",
    ),
    "exclusion_left": (
        "left the exclusion zone: {m:.0f} m outside",
        "已离开禁止进入区域：距边界 {m:.0f} 米",
    ),
    "inclusion_outside": (
        "outside the inclusion zone: {m:.0f} m from its boundary",
        "离开活动区域：距边界 {m:.0f} 米",
    ),
    "inclusion_back": ("back inside the inclusion zone", "已回到活动区域"),
    "curfew_outside": (
        "outside the home zone during curfew: {m:.0f} m from its boundary",
        "宵禁时段不在住所区域：距边界 {m:.0f} 米",
    ),
    "curfew_back": ("back inside the home zone during curfew", "宵禁时段已回到住所区域"),
    # The distance an order sets, never the measured one: with the subject's position it
    # would tell where the protected person is.
    "protected_near": (
        "within {r:.0f} m of protected person {person}",
        "进入受保护人 {person} 的 {r:.0f} 米范围内",
    ),
    "protected_away": (
        "no longer within {r:.0f} m of protected person {person}",
        "已离开受保护人 {person} 的 {r:.0f} 米范围",
    ),
    "protected_approaching": (
        "heading for protected person {person}: within {r:.0f} m in about {min:.0f} min",
        "正在接近受保护人 {person}：约 {min:.0f} 分钟后进入 {r:.0f} 米范围",
    ),
    "protected_not_approaching": (
        "no longer heading for protected person {person}",
        "已不再接近受保护人 {person}",
    ),
    "zone_approaching": (
        "heading for exclusion zone {zone}: inside in about {min:.1f} min, {m:.0f} m on",
        "正在前往禁止进入区域 {zone}：约 {min:.1f} 分钟、{m:.0f} 米后进入",
    ),
    "zone_not_approaching": (
        "no longer heading for exclusion zone {zone}",
        "已不再前往禁止进入区域 {zone}",
    ),
    "night_away_at": (
        "away from the residence {h:.1f} h of the night, at a place since {since}",
        "夜间离开居住地 {h:.1f} 小时，{since} 起停留在别处",
    ),
    "night_away_moving": (
        "away from the residence {h:.1f} h of the night, no stay found: last position away",
        "夜间离开居住地 {h:.1f} 小时，未见停留：离开后的最后位置",
    ),
    "suspect_jump": (
        "jumped {km:.1f} km at {kmh:.0f} km/h and stayed there: faked, or another device",
        "位置以 {kmh:.0f} 公里/小时跳变 {km:.1f} 公里并停留：疑似虚拟定位或换用设备",
    ),
    "suspect_backwards": (
        "device clock went back {min:.0f} min (fix no. {seq:.0f}): set back, or a day replayed",
        "设备时间倒退 {min:.0f} 分钟（第 {seq:.0f} 个定位）：疑似调整时间或回放轨迹",
    ),
    "suspect_frozen": (
        "the very same GNSS coordinates for {h:.1f} h ({n:.0f} fixes): no real receiver does that",
        "{h:.1f} 小时内卫星定位坐标完全不变（{n:.0f} 个定位）：疑似虚拟定位",
    ),
    "suspect_steady": (
        "the very same GNSS accuracy for {h:.1f} h ({n:.0f} fixes): no real receiver does that",
        "{h:.1f} 小时内卫星定位精度完全不变（{n:.0f} 个定位）：疑似虚拟定位",
    ),
    "suspect_mock": (
        "the device says this position comes from a mock location app",
        "设备报告该位置来自模拟定位应用",
    ),
    "suspect_still": (
        "claimed GNSS fixes still at one place for {min:.0f} min"
        " while the subject's other device went {km:.1f} km away",
        "该设备 {min:.0f} 分钟内卫星定位静止不动，而另一设备已离开 {km:.1f} 公里："
        "疑似虚拟定位或设备交由他人",
    ),
    "contact_near": (
        "within {r:.0f} m of subject {other}, whom the order forbids meeting",
        "与禁止接触的矫正对象 {other} 相距不足 {r:.0f} 米",
    ),
    "contact_over": (
        "apart again from subject {other} ({m:.0f} m)",
        "已与矫正对象 {other} 分开（相距 {m:.0f} 米）",
    ),
    "separation_apart": (
        "phone and wristband {m:.0f} m apart",
        "手机与腕带相距 {m:.0f} 米（人机分离）",
    ),
    "separation_together": (
        "phone and wristband together again ({m:.0f} m)",
        "手机与腕带已在一起（相距 {m:.0f} 米）",
    ),
    "phone_silent": ("phone silent for over {min:.0f} min", "手机超过 {min:.0f} 分钟无信号"),
    "wristband_silent": (
        "wristband silent for over {min:.0f} min",
        "腕带超过 {min:.0f} 分钟无信号",
    ),
    "phone_switched_off": (
        "phone switched off (it said so) and silent for over {min:.0f} min",
        "手机已关机（设备报告），超过 {min:.0f} 分钟无信号",
    ),
    "wristband_switched_off": (
        "wristband switched off (it said so) and silent for over {min:.0f} min",
        "腕带已关机（设备报告），超过 {min:.0f} 分钟无信号",
    ),
    "subject_silent_off": (
        "no device of the subject reports: switched off (it said so)",
        "该对象所有设备均无信号：设备报告已关机（失联）",
    ),
    "phone_back": ("phone reporting again", "手机恢复上报"),
    "wristband_back": ("wristband reporting again", "腕带恢复上报"),
    "subject_silent": ("no device of the subject reports", "该对象所有设备均无信号（失联）"),
    "subject_back": ("a device reports again", "已有设备恢复上报"),
    "phone_back_late": (
        "phone reporting again: it measured all along, {min:.0f} min of reports arrived late"
        " (a network gap)",
        "手机恢复上报：其间一直在定位，{min:.0f} 分钟的上报延迟到达（网络中断）",
    ),
    "phone_back_after": (
        "phone reporting again after {min:.0f} min without measuring anything"
        " (switched off, flat, or no fix)",
        "手机恢复上报：此前 {min:.0f} 分钟未测得任何数据（关机、没电或无法定位）",
    ),
    "wristband_back_late": (
        "wristband reporting again: it measured all along, {min:.0f} min of reports arrived late"
        " (a network gap)",
        "腕带恢复上报：其间一直在定位，{min:.0f} 分钟的上报延迟到达（网络中断）",
    ),
    "wristband_back_after": (
        "wristband reporting again after {min:.0f} min without measuring anything"
        " (switched off, flat, or no fix)",
        "腕带恢复上报：此前 {min:.0f} 分钟未测得任何数据（关机、没电或无法定位）",
    ),
    "subject_back_late": (
        "a device reporting again: it measured all along, {min:.0f} min of reports arrived late"
        " (a network gap)",
        "已有设备恢复上报：其间一直在定位，{min:.0f} 分钟的上报延迟到达（网络中断）",
    ),
    "subject_back_after": (
        "a device reporting again after {min:.0f} min without measuring anything"
        " (switched off, flat, or no fix)",
        "已有设备恢复上报：此前 {min:.0f} 分钟未测得任何数据（关机、没电或无法定位）",
    ),
    "curfew_not_home": (
        "not home when the curfew began (newest fix {min:.0f} min old)",
        "宵禁开始时不在住所（最新定位为 {min:.0f} 分钟前）",
    ),
    "leave_not_back": (
        "leave {leave} ended and the subject is not back in the district"
        " (newest fix {min:.0f} min old)",
        "请假 {leave} 已结束，对象未返回辖区（最新定位为 {min:.0f} 分钟前）",
    ),
    "leave_back": ("back in the district after the leave", "请假结束后已返回辖区"),
    "order_ending": (
        "monitoring order {order} ends {ends} UTC, in {days:.1f} days: review, extend or end it",
        "电子定位决定 {order} 将于 {ends}（UTC）到期，还有 {days:.1f} 天：请审查、延长或解除",
    ),
    "strap_opened": ("wristband strap opened", "腕带扣被打开"),
    "strap_cut": ("wristband strap cut", "腕带被剪断"),
    "removed": ("wristband taken off the wrist", "腕带已脱离手腕"),
    "power_off": ("device switched off", "设备关机"),
    "power_on": ("device switched on again", "设备已重新开机"),
    "low_battery": ("battery low: remind the subject", "电量低：请提醒对象充电"),
    "charging": ("device charging", "设备正在充电"),
    "sos": ("SOS button pressed", "按下了紧急求助按钮"),
    "check_in_missed": (
        "check-in request to {device} not answered in time",
        "设备 {device} 未按时响应签到",
    ),
}
# Added to any text that has the value: what the device said of its battery, or its error.
_SUFFIXES: dict[str, tuple[str, str]] = {
    "battery": (" (battery {battery}%)", "（电量 {battery}%）"),
    "error": (" (the device said: {error})", "（设备回复：{error}）"),
}


@dataclass(frozen=True, slots=True)
class Text:
    """A catalogue key and its values; `str()` is the English."""

    key: str
    params: Mapping[str, Value] = field(default_factory=dict)

    def render(self, language: Language) -> str:
        i = 1 if language == "zh" else 0
        out = CATALOGUE[self.key][i].format(**self.params)
        for name, suffix in _SUFFIXES.items():
            if name in self.params:
                out += suffix[i].format(**self.params)
        return out

    def __str__(self) -> str:
        return self.render("en")


def language_of(accept_language: str | None) -> Language:
    """Chinese for a reader who prefers it (`zh`, `zh-CN`, ... first), else English."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"
