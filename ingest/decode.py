"""Messages as the broker delivered them, decoded one by one: each judged on its own, so a
message that cannot be decoded, for whatever reason, costs nothing but itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domain import EventReport, Rejected
from ingest.errors import RejectedInputError
from ingest.formats import format_of
from ingest.wire import Decoded, DecodedFix, RejectedItem, kept, screen

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device
    from ingest.wire import Limits

log = logging.getLogger(__name__)

_REASON_CHARS = 500


@dataclass(frozen=True, slots=True)
class Message:
    """A message as the broker delivered it. `retained`: the broker's stored last message,
    replayed on subscribe: possibly old news, so it is stored but not judged as current.
    `marker`: ingest's own backlog marker (see `ingest.backlog`), not a device's."""

    topic: str
    payload: bytes
    received: float
    retained: bool = False
    marker: bool = False
    # Tells the broker the message is safe (MQTT PUBACK): called only once it is stored or
    # quarantined, so a crash before that has the broker deliver it again.
    ack: Callable[[], object] | None = None


def describe(exc: BaseException) -> str:
    """An exception as a quarantine reason; never raises, whatever the exception holds."""
    try:
        text = str(exc)
    except Exception:
        text = "(no description)"
    return f"{type(exc).__name__}: {text}"[:_REASON_CHARS]


def decode_message(
    message: Message,
    *,
    devices: Mapping[str, Device],
    owntracks: Mapping[str, Device],
    limits: Limits,
) -> Decoded:
    """The fixes and events of one message, and what of it was refused with the reason.
    Never raises: whatever goes wrong with this message is a reason to quarantine it."""
    topic, payload = message.topic, message.payload
    try:
        screen(payload, limits)
        fmt = format_of(topic)
        if fmt is None:
            raise RejectedInputError(f"topic {topic!r:.200} is not one that ccmon reads")
        return fmt.decode(
            topic,
            payload,
            received=message.received,
            devices=owntracks if fmt.owntracks else devices,
            limits=limits,
        )
    except RejectedInputError as exc:
        reason = describe(exc).removeprefix("RejectedInputError: ")
    except Exception as exc:
        log.warning("could not decode a message on %r: %s", topic[:200], describe(exc))
        reason = f"cannot decode: {describe(exc)}"
    return Decoded(rejected=[RejectedItem(kept(payload, limits), reason)])


@dataclass(slots=True)
class Contents:
    """What a batch of messages held; `origin[i]` is the message fix i came from."""

    fixes: list[DecodedFix] = field(default_factory=list)
    origin: list[int] = field(default_factory=list)
    events: list[EventReport] = field(default_factory=list)
    event_origin: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def decode_messages(
    messages: list[Message],
    *,
    devices: Mapping[str, Device],
    owntracks: Mapping[str, Device],
    limits: Limits,
) -> Contents:
    out = Contents()
    for i, m in enumerate(messages):
        got = decode_message(m, devices=devices, owntracks=owntracks, limits=limits)
        out.fixes.extend(got.fixes)
        out.origin.extend([i] * len(got.fixes))
        out.events.extend(got.events)
        out.event_origin.extend([i] * len(got.events))
        out.rejected.extend(Rejected(m.topic, r.raw, r.reason) for r in got.rejected)
    return out
