"""What each kind of alert, severity and supervision level is called, in English and Chinese:
the same names in the console (through the API), the API and text messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.alerts import AlertKind, Severity
from domain.subjects import SupervisionLevel

if TYPE_CHECKING:
    from domain.texts import Language

# What each kind of alert, severity and supervision level is called: (English, Chinese).
KIND_NAMES: dict[AlertKind, tuple[str, str]] = {
    AlertKind.ZONE_EXIT: ("Left zone", "越界"),
    AlertKind.ZONE_ENTRY: ("Entered exclusion zone", "进入禁入区域"),
    AlertKind.CURFEW: ("Curfew broken", "违反宵禁"),
    AlertKind.SEPARATION: ("Phone left behind", "人机分离"),
    AlertKind.DEVICE_SILENT: ("Device silent", "设备失联"),
    AlertKind.SUBJECT_SILENT: ("Lost contact", "人员失联"),
    AlertKind.TAMPER: ("Strap tamper", "腕带破坏"),
    AlertKind.DEVICE_REMOVED: ("Wristband removed", "腕带摘除"),
    AlertKind.POWER_OFF: ("Powered off", "设备关机"),
    AlertKind.LOW_BATTERY: ("Low battery", "电量低"),
    AlertKind.SOS: ("SOS", "紧急求助"),
    AlertKind.LEAVE_OVERDUE: ("Not back from leave", "请假逾期未归"),
    AlertKind.ORDER_ENDING: ("Order ending", "监管期限将满"),
    AlertKind.CHECK_IN_MISSED: ("Check-in missed", "未响应签到"),
    AlertKind.PROTECTED_PERSON_PROXIMITY: ("Near a protected person", "接近受保护人"),
    AlertKind.PROHIBITED_CONTACT: ("Prohibited contact", "违反禁止令接触"),
    AlertKind.NIGHT_AWAY: ("Night away", "夜不归宿"),
    AlertKind.SUSPECT_LOCATION: ("Suspect location", "疑似虚拟定位"),
    AlertKind.APPROACHING: (
        "Heading for a forbidden place or person",
        "正在接近禁止接近的地点或人",
    ),
}
SEVERITY_NAMES: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("critical", "紧急"),
    Severity.HIGH: ("high", "重要"),
    Severity.NORMAL: ("normal", "一般"),
}
LEVEL_NAMES: dict[SupervisionLevel, tuple[str, str]] = {
    SupervisionLevel.STRICT: ("strict", "严管"),
    SupervisionLevel.NORMAL: ("normal", "普管"),
    SupervisionLevel.LENIENT: ("lenient", "宽管"),
}


def name_of(name: tuple[str, str], language: Language) -> str:
    return name[1 if language == "zh" else 0]


def names(language: Language) -> dict[str, str]:
    """Every name in one language, keyed `kind_zone_exit`, `severity_high`, `level_strict`."""
    return {
        f"{prefix}_{key}": name_of(name, language)
        for prefix, table in (
            ("kind", KIND_NAMES),
            ("severity", SEVERITY_NAMES),
            ("level", LEVEL_NAMES),
        )
        for key, name in table.items()
    }
