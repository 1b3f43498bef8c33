"""Delivery pieces without I/O: back-off, signatures, text messages and provider templates."""

from __future__ import annotations

import json
import random
from urllib.parse import parse_qs

from alerts import DeliveryConfig, SmsTemplate, message, retry_delay, signature

BODY = {
    "event": {"id": 7, "action": "opened", "actor": "ccmon-ingest", "note": None, "at": "x"},
    "alert": {
        "id": 42,
        "kind": "zone_entry",
        "severity": "critical",
        "last_time": "2026-11-25T14:05:00+00:00",
        "subject": {"id": 3, "name": "王伟", "office_id": 2},
    },
}


def test_back_off_doubles_up_to_the_cap_with_jitter() -> None:
    config = DeliveryConfig(retry_base_s=1.0, retry_max_s=60.0)
    rng = random.Random(1)
    for attempts, ceiling in ((0, 1.0), (1, 2.0), (3, 8.0), (10, 60.0), (500, 60.0)):
        delays = [retry_delay(attempts, config, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # spread: not every retry at once


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # Computed independently: printf '1764079500.{"a":1}' | openssl dgst -sha256 -hmac k
    expected = "v1=35db85f851ceffa3f538174d040543bbfb4ba64e7adeaa37738b815458ea8aab"
    assert signature("k", "1764079500", b'{"a":1}') == expected
    assert signature("k", "1764079501", b'{"a":1}') != expected
    assert signature("other", "1764079500", b'{"a":1}') != expected


def test_messages_in_chinese_and_english_in_local_time() -> None:
    assert message(BODY, language="zh") == (
        "【社区矫正】紧急告警：王伟 进入禁入区域，11-25 22:05。告警号42，请及时处置。"
    )
    escalated = {**BODY, "event": {**BODY["event"], "action": "escalated"}}
    assert message(escalated, language="en") == (
        "[ccmon ESCALATED] critical alert: 王伟: Entered exclusion zone, 11-25 22:05."
        " Alert 42: please act."
    )


def test_a_json_template_gets_escaped_values_and_a_form_template_encoded_ones() -> None:
    text = 'say "hi" & 再见'
    json_body = SmsTemplate(url="http://sms", body='{"to": "{phone}", "text": "{message}"}')
    assert json.loads(json_body.render("+86138", text)) == {"to": "+86138", "text": text}
    form = SmsTemplate(url="http://sms", body="mobile={phone}&content={message}&sign=cc")
    assert parse_qs(form.render("+86138", text).decode()) == {
        "mobile": ["+86138"],
        "content": [text],
        "sign": ["cc"],
    }
