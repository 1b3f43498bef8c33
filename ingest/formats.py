"""The wire formats ingest reads, as a table: the MQTT topics each arrives on, how a topic
is recognised, the decoder, and how its devices are registered. Adding a format is adding
a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ingest.events import EVENT_TOPIC, decode_event
from ingest.owntracks import OWNTRACKS_TOPICS, decode_owntracks
from ingest.wire import FIX_TOPIC, decode_fixes

if TYPE_CHECKING:
    from collections.abc import Mapping

    from domain import Device
    from ingest.wire import Decoded, Limits


class Decoder(Protocol):
    """Topic + raw payload -> fixes, events and refused items; raises RejectedInputError
    (with the reason) when the whole message is refused. `devices`: the registered devices
    by the key the format's topics carry."""

    def __call__(
        self,
        topic: str,
        payload: bytes,
        *,
        received: float,
        devices: Mapping[str, Device],
        limits: Limits,
    ) -> Decoded: ...


@dataclass(frozen=True, slots=True)
class Format:
    subscriptions: tuple[str, ...]  # MQTT topic filters
    prefix: str  # a topic of the format starts with this and ends with `suffix`
    suffix: str
    decode: Decoder
    owntracks: bool  # devices keyed by OwnTracks `user/device`, not by their code

    def claims(self, topic: str) -> bool:
        return topic.startswith(self.prefix) and topic.endswith(self.suffix)


FORMATS = (
    # native v1 fixes, v1 device events, OwnTracks
    Format((FIX_TOPIC,), "cc/v1/devices/", "/fix", decode_fixes, owntracks=False),
    Format((EVENT_TOPIC,), "cc/v1/devices/", "/status", decode_event, owntracks=False),
    Format(OWNTRACKS_TOPICS, "owntracks/", "", decode_owntracks, owntracks=True),
)

SUBSCRIPTIONS = tuple(s for f in FORMATS for s in f.subscriptions)


def format_of(topic: str) -> Format | None:
    """The format whose topics `topic` is one of (None: not a topic ingest reads)."""
    return next((f for f in FORMATS if f.claims(topic)), None)
