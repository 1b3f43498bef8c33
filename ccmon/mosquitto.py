"""The Mosquitto configuration ccmon runs against: nothing a slow subscriber misses is dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def mosquitto_config(*, port: int, host: str = "127.0.0.1", persistence_dir: Path | None) -> str:
    """A mosquitto.conf for ccmon's ingest.

    Mosquitto's default `max_queued_messages 1000` silently drops QoS 1 messages for a
    subscriber that falls behind; 0 means no limit, so a backlog waits in the broker instead.
    With `persistence_dir`, queued messages and persistent sessions survive a broker restart.
    """
    lines = [
        f"listener {port} {host}",
        "allow_anonymous true",
        "max_queued_messages 0",
        "max_queued_bytes 0",
        "max_inflight_messages 0",
        "persistent_client_expiration 7d",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
    ]
    if persistence_dir is not None:
        lines += ["persistence true", f"persistence_location {persistence_dir}/"]
    else:
        lines.append("persistence false")
    return "\n".join(lines) + "\n"
