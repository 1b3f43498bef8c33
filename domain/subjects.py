"""People under supervision and the devices they carry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SupervisionLevel(StrEnum):
    """严管 / 普管 / 宽管: sets reporting intervals and how fast rules confirm."""

    STRICT = "strict"
    NORMAL = "normal"
    LENIENT = "lenient"


class DeviceKind(StrEnum):
    PHONE = "phone"
    WRISTBAND = "wristband"


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device; `code` is the id it uses in its MQTT topic. An OwnTracks phone
    also has `owntracks_topic` (`user/device` of owntracks/user/device) and, if the app
    encrypts, the passphrase it encrypts with. A device is a subject's, or the phone of a
    protected person (`protected_person_id`), or in stock."""

    id: int
    code: str
    kind: DeviceKind
    subject_id: int | None
    active: bool
    owntracks_topic: str | None = None
    owntracks_key: str | None = None
    http_password_hash: str | None = None  # argon2, for posting fixes over HTTP
    protected_person_id: int | None = None
