"""The command channel: hands issued commands to the broker (QoS 1, each once even with
several ingest processes), records what devices answer, answers a locate by the fix it
brought, and expires what went unanswered (an unanswered check-in is an alert).

On the wire (see the README): ccmon publishes to cc/v1/devices/{code}/cmd
    {"id": "<uuid>", "kind": "locate" | "set_interval" | "check_in", "params": {...},
     "expires_at": "<ISO 8601>"}
and a device answers on cc/v1/devices/{code}/cmd/result
    {"id": "<uuid>", "status": "delivered" | "answered" | "failed", "answer": {...},
     "error": "..."}
An OwnTracks phone gets its native {"_type": "cmd", "action": "reportLocation"} for a
locate on owntracks/{user}/{device}/cmd; it has no other command."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import aiomqtt
import msgspec
import psycopg

import store
from alerts import check_ins
from domain import CommandKind, CommandState, Rejected
from ingest.decode import describe
from ingest.errors import RejectedInputError
from ingest.wire import decode_json, kept, screen

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

    from ingest.mqtt import MqttConfig
    from ingest.wire import Limits

log = logging.getLogger(__name__)

RESULT_TOPIC = "cc/v1/devices/+/cmd/result"
_ACTOR = "ccmon"


class Result(msgspec.Struct, forbid_unknown_fields=True):
    id: UUID
    status: Literal["delivered", "answered", "failed"]
    answer: dict[str, Any] | None = None
    error: str | None = None


_result = msgspec.json.Decoder(Result)
_ERROR_CHARS = 500


def decode_result(payload: bytes, *, limits: Limits) -> Result:
    """A device's result message, checked as any device input is; RejectedInputError with
    the reason otherwise."""
    screen(payload, limits)
    result = decode_json(_result, payload, "command result")
    if result.error is not None and len(result.error) > _ERROR_CHARS:
        raise RejectedInputError(f"error of {len(result.error)} characters: at most {_ERROR_CHARS}")
    _check_plain(result.answer, "answer")
    _check_plain(result.error, "error")
    return result


def _check_plain(value: object, where: str) -> None:
    """JSON the store can keep: finite numbers, text without NUL (nesting is bounded)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise RejectedInputError(f"{where} holds {value}, not a finite number")
    if isinstance(value, str) and "\0" in value:
        raise RejectedInputError(f"{where} holds a NUL character")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, where)
            _check_plain(item, f"{where}.{key:.40}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")


def wire(command: store.commands.Outgoing) -> tuple[str, bytes] | str:
    """(topic, payload) for the command, or why the device cannot take it."""
    if command.owntracks_topic is not None:
        if command.kind != CommandKind.LOCATE:
            return f"an OwnTracks phone has no {command.kind} command"
        body: dict[str, Any] = {"_type": "cmd", "action": "reportLocation"}
        return f"owntracks/{command.owntracks_topic}/cmd", json.dumps(body).encode()
    body = {
        "id": str(command.id),
        "kind": command.kind,
        "params": command.params,
        "expires_at": command.expires_at.isoformat(),
    }
    return f"cc/v1/devices/{command.device_code}/cmd", json.dumps(body).encode()


def command_username(username: str) -> str:
    """The broker account of the command channel beside the ingest logged in as `username`
    (`ccmon mosquitto-auth` writes it): under the generated config a client's id is its
    username, so each MQTT client of ccmon has an account of its own."""
    return f"{username}-commands"


class CommandChannel:
    """Runs beside ingest, with an MQTT client (and persistent session) of its own."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        mqtt: MqttConfig,
        *,
        limits: Limits,
        poll_s: float = 0.5,
    ) -> None:
        self._pool = pool
        self._mqtt = mqtt
        self._limits = limits
        self._poll_s = poll_s

    async def run(self) -> None:
        """Until cancelled, reconnecting with back-off."""
        delay = 0.5
        while True:
            client = aiomqtt.Client(
                self._mqtt.host,
                self._mqtt.port,
                identifier=f"{self._mqtt.client_id}-commands",
                clean_session=False,
                username=None
                if self._mqtt.username is None
                else command_username(self._mqtt.username),
                password=self._mqtt.password,
                tls_params=self._mqtt.tls_params(),
            )
            try:
                async with client:
                    topic = RESULT_TOPIC
                    if self._mqtt.share_group is not None:
                        topic = f"$share/{self._mqtt.share_group}/{topic}"
                    await client.subscribe(topic, qos=1)
                    delay = 0.5
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(self._send_loop(client))
                        tg.create_task(self._result_loop(client))
            except* aiomqtt.MqttError as group:
                store.cancellation.honour_cancellation()  # a shutdown, not a lost connection
                log.warning("command channel: MQTT lost (%s); again in %.1f s", group, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _send_loop(self, client: aiomqtt.Client) -> None:
        while True:
            store.cancellation.honour_cancellation()
            await asyncio.sleep(self._poll_s)
            try:
                await self.send_pending(client)
                await self.settle()
            except psycopg.Error:
                log.exception("command channel: the store failed; trying again")

    async def send_pending(self, client: aiomqtt.Client) -> int:
        """Hand every pending command to the broker; marked sent once the broker has it."""
        async with self._pool.connection() as conn, conn.transaction():
            pending = await store.commands.claim_pending(conn, limit=200)
            sent = []
            for command in pending:
                out = wire(command)
                if isinstance(out, str):
                    await store.commands.fail_command(conn, command_id=command.id, error=out)
                    continue
                await client.publish(out[0], out[1], qos=1)
                sent.append(command.id)
            await store.commands.mark_sent(conn, sent)
        return len(pending)

    async def settle(self) -> None:
        """Locates answered by a fix; the unanswered past their time expired; each expired
        check-in an alert for its subject."""
        async with self._pool.connection() as conn, conn.transaction():
            await store.commands.answer_with_fixes(conn)
            expired = await store.commands.expire_commands(conn)
            await check_ins.record_missed(conn, expired, now=time.time(), actor=_ACTOR)

    async def _result_loop(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            raw = message.payload
            payload = raw if isinstance(raw, bytes) else str(raw).encode()
            topic = message.topic.value
            try:
                await self.record(topic, payload)
            except psycopg.Error:
                log.exception("command channel: could not record a result")
            store.cancellation.honour_cancellation()

    async def record(self, topic: str, payload: bytes) -> None:
        """Record one result message; a malformed one, or one the store refuses, goes to
        quarantine with the reason."""
        code = topic.split("/")[3]
        try:
            result = decode_result(payload, limits=self._limits)
            async with self._pool.connection() as conn:
                known = await store.commands.record_result(
                    conn,
                    device_code=code,
                    command_id=result.id,
                    status=CommandState(result.status),
                    answer=result.answer,
                    error=result.error,
                )
            if not known:
                log.info("result for command %s of %s ignored: ended or unknown", result.id, code)
            return
        except psycopg.OperationalError:
            raise  # the store is away: not the message's fault
        except RejectedInputError as exc:
            reason = f"not a command result: {exc}"
        except Exception as exc:
            reason = f"command result not recorded: {describe(exc)}"
        async with self._pool.connection() as conn:
            await store.quarantine.quarantine(
                conn, [Rejected(topic, kept(payload, self._limits), reason)]
            )
