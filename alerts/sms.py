"""Text messages through any SMS provider's HTTP API, described by a template: URL, method,
headers and a body with {phone} and {message} placeholders. Messages per alert kind, in
Chinese or English."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from alerts.webhooks import http_call
from domain import AlertAction, AlertKind, Severity

if TYPE_CHECKING:
    import httpx

    import store
    from alerts.delivery import Outcome

_KIND_ZH = {
    AlertKind.ZONE_EXIT: "越界（离开活动区域）",
    AlertKind.ZONE_ENTRY: "进入禁入区域",
    AlertKind.CURFEW: "违反宵禁",
    AlertKind.SEPARATION: "人机分离",
    AlertKind.DEVICE_SILENT: "设备失联",
    AlertKind.SUBJECT_SILENT: "人员失联",
    AlertKind.TAMPER: "腕带破坏",
    AlertKind.DEVICE_REMOVED: "腕带摘除",
    AlertKind.POWER_OFF: "设备关机",
    AlertKind.LOW_BATTERY: "电量低",
    AlertKind.SOS: "紧急求助",
    AlertKind.LEAVE_OVERDUE: "请假逾期未归",
    AlertKind.ORDER_ENDING: "监管期限将满",
    AlertKind.CHECK_IN_MISSED: "未响应签到",
}
_KIND_EN = {
    AlertKind.ZONE_EXIT: "left the permitted area",
    AlertKind.ZONE_ENTRY: "entered an exclusion zone",
    AlertKind.CURFEW: "curfew broken",
    AlertKind.SEPARATION: "phone and wristband apart",
    AlertKind.DEVICE_SILENT: "device silent",
    AlertKind.SUBJECT_SILENT: "subject out of contact",
    AlertKind.TAMPER: "wristband tampered with",
    AlertKind.DEVICE_REMOVED: "wristband removed",
    AlertKind.POWER_OFF: "device switched off",
    AlertKind.LOW_BATTERY: "battery low",
    AlertKind.SOS: "SOS",
    AlertKind.LEAVE_OVERDUE: "not back from leave",
    AlertKind.ORDER_ENDING: "monitoring order ending",
    AlertKind.CHECK_IN_MISSED: "check-in not answered",
}
_SEVERITY_ZH = {Severity.CRITICAL: "紧急", Severity.HIGH: "重要", Severity.NORMAL: "一般"}


def message(body: dict[str, Any], *, language: str, timezone: str = "Asia/Shanghai") -> str:
    """The text for one alert event (the outbox body), short enough for one or two SMS."""
    alert, event = body["alert"], body["event"]
    kind, severity = AlertKind(alert["kind"]), Severity(alert["severity"])
    when = datetime.fromisoformat(alert["last_time"]).astimezone(ZoneInfo(timezone))
    subject = alert["subject"]["name"]
    escalated = event["action"] == AlertAction.ESCALATED
    if language == "zh":
        head = "【社区矫正·升级】" if escalated else "【社区矫正】"
        return (
            f"{head}{_SEVERITY_ZH[severity]}告警：{subject} {_KIND_ZH[kind]}，"
            f"{when:%m-%d %H:%M}。告警号{alert['id']}，请及时处置。"
        )
    head = "[ccmon ESCALATED]" if escalated else "[ccmon]"
    return (
        f"{head} {severity} alert: {subject}, {_KIND_EN[kind]}, {when:%m-%d %H:%M}."
        f" Alert {alert['id']}: please act."
    )


@dataclass(frozen=True, slots=True)
class SmsTemplate:
    """How to call the provider. A body that is JSON gets the values inserted into its
    strings (escaped as JSON); any other body is form data and gets them URL-encoded."""

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"to": "{phone}", "text": "{message}"}'

    def render(self, phone: str, text: str) -> bytes:
        try:
            parsed = json.loads(self.body)
        except json.JSONDecodeError:
            filled = self.body.replace("{phone}", quote_plus(phone))
            return filled.replace("{message}", quote_plus(text)).encode()
        return json.dumps(_fill(parsed, phone, text), ensure_ascii=False).encode()


def _fill(value: Any, phone: str, text: str) -> Any:
    if isinstance(value, str):
        return value.replace("{phone}", phone).replace("{message}", text)
    if isinstance(value, dict):
        return {k: _fill(v, phone, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, phone, text) for v in value]
    return value


class SmsChannel:
    def __init__(
        self,
        client: httpx.AsyncClient,
        template: SmsTemplate,
        *,
        language: str,
        timeout_s: float,
    ) -> None:
        self._client = client
        self._template = template
        self._language = language
        self._timeout = timeout_s

    async def send(self, delivery: store.outbox.Delivery) -> Outcome:
        assert delivery.phone is not None
        text = message(delivery.body, language=self._language)
        return await http_call(
            self._client,
            self._template.method,
            self._template.url,
            content=self._template.render(delivery.phone, text),
            headers=self._template.headers,
            timeout_s=self._timeout,
        )
