"""An alert's message in the reader's language (Accept-Language), from the catalogue."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import alerts
import store
from domain import AlertKind, AlertState, Finding, Severity, SupervisionLevel, Text
from tests.helpers import seed_subject

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool


async def test_an_alert_speaks_the_reader_s_language(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    seeded = await seed_subject(pool, code="texts-lang")
    async with pool.connection() as conn:
        await alerts.notices.record_findings(
            conn,
            [
                Finding(AlertKind.SOS, seeded.subject_id, time.time(), Text("sos", {"battery": 9})),
                Finding(AlertKind.TAMPER, seeded.subject_id, time.time(), "said by a person"),
            ],
            actor="test",
        )
    path = f"/api/v1/alerts?subject_id={seeded.subject_id}"
    by_language = {}
    for header in ("zh-CN,zh;q=0.9", "en", None):
        headers = {} if header is None else {"Accept-Language": header}
        got = await api.get(path, headers=headers)
        assert got.status_code == 200, got.text
        by_language[header] = {a["kind"]: a["message"] for a in got.json()}
    assert by_language["zh-CN,zh;q=0.9"] == {
        "sos": "按下了紧急求助按钮（电量 9%）",
        "tamper": "said by a person",  # a person's words are shown as they were written
    }
    assert (
        by_language["en"]
        == by_language[None]
        == {
            "sos": "SOS button pressed (battery 9%)",
            "tamper": "said by a person",
        }
    )
    async with pool.connection() as conn:
        stored = await store.alerts.list_alerts(
            conn, states=list(AlertState), subject_id=seeded.subject_id, limit=10
        )
    assert {a.message for a in stored} == {"SOS button pressed (battery 9%)", "said by a person"}


async def test_the_console_names_every_kind_severity_and_level_as_the_catalogue_does(
    api: httpx.AsyncClient,
) -> None:
    got = await api.get("/api/v1/console/words")
    assert got.status_code == 200, got.text
    words = got.json()
    assert words["kinds"] == [k.value for k in AlertKind]
    assert words["levels"] == [level.value for level in SupervisionLevel]
    assert words["severities"] == [s.value for s in Severity]
    expected = {f"kind_{k}" for k in AlertKind} | {f"level_{v}" for v in SupervisionLevel}
    expected |= {f"severity_{s}" for s in Severity}
    assert set(words["en"]) == set(words["zh"]) == expected
    assert (words["en"]["kind_zone_exit"], words["zh"]["kind_zone_exit"]) == ("Left zone", "越界")
    anonymous = await api.get("/api/v1/console/words", headers={"Authorization": ""})
    assert anonymous.status_code == 401
