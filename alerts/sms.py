"""Text messages through any SMS provider's HTTP API, described by a template: URL, method,
headers and a body with {phone} and {message} placeholders. Messages per alert kind, in
Chinese or English, naming the kind as the console does (domain.texts)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from alerts.webhooks import http_call
from domain import KIND_NAMES, SEVERITY_NAMES, AlertAction, AlertKind, Severity, name_of

if TYPE_CHECKING:
    import httpx

    import store
    from alerts.delivery import Outcome
    from domain import Language


def message(body: dict[str, Any], *, language: Language, timezone: str = "Asia/Shanghai") -> str:
    """The text for one alert event (the outbox body), short enough for one or two SMS; to a
    protected person (`warning` in the body), the warning in their own language."""
    if "warning" in body:
        return warning(body["warning"])
    alert, event = body["alert"], body["event"]
    kind = name_of(KIND_NAMES[AlertKind(alert["kind"])], language)
    severity = name_of(SEVERITY_NAMES[Severity(alert["severity"])], language)
    when = datetime.fromisoformat(alert["last_time"]).astimezone(ZoneInfo(timezone))
    subject = alert["subject"]["name"]
    escalated = event["action"] == AlertAction.ESCALATED
    if language == "zh":
        head = "【社区矫正·升级】" if escalated else "【社区矫正】"
        return (
            f"{head}{severity}告警：{subject} {kind}，"
            f"{when:%m-%d %H:%M}。告警号{alert['id']}，请及时处置。"
        )
    head = "[ccmon ESCALATED]" if escalated else "[ccmon]"
    return (
        f"{head} {severity} alert: {subject}: {kind}, {when:%m-%d %H:%M}."
        f" Alert {alert['id']}: please act."
    )


def warning(about: dict[str, Any]) -> str:
    """A protected person's warning: that the person the court keeps from them may be near
    or heading their way, within the order's distance; never who is where, nor how near."""
    r, near = about["distance_m"], about["kind"] == AlertKind.PROTECTED_PERSON_PROXIMITY
    if about["language"] == "zh":
        where = f"可能就在您附近（{r:.0f}米内）" if near else "可能正在向您靠近"
        return (
            f"【社区矫正·安全提醒】依法院禁止令不得接近您的人员{where}。"
            "请留意安全，遇到危险请拨打110。司法所已收到告警。"
        )
    where = f"may be near you (within {r:.0f} m)" if near else "may be heading your way"
    return (
        f"[ccmon safety notice] The person a court order keeps away from you {where}."
        " Stay safe; in danger call 110. The justice office has been alerted."
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
        language: Language,
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
