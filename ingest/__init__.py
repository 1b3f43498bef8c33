"""MQTT subscription, wire formats, validation, quarantine, batching and the pipeline loop."""

from ingest.commands import RESULT_TOPIC, CommandChannel, command_username
from ingest.decode import Message, decode_message
from ingest.errors import IngestError, RejectedInputError
from ingest.http import owntracks_http
from ingest.mqtt import BatchConfig, MqttConfig, run_ingest
from ingest.pipeline import Pipeline, PipelineConfig, PipelineStats
from ingest.status import STATUS_TOPIC, StatusV1, decode_status
from ingest.wire import (
    FIX_TOPIC,
    Decoded,
    DecodedFix,
    FixV1,
    Limits,
    RejectedItem,
    decode_fixes,
)

__all__ = [
    "FIX_TOPIC",
    "RESULT_TOPIC",
    "STATUS_TOPIC",
    "BatchConfig",
    "CommandChannel",
    "Decoded",
    "DecodedFix",
    "FixV1",
    "IngestError",
    "Limits",
    "Message",
    "MqttConfig",
    "Pipeline",
    "PipelineConfig",
    "PipelineStats",
    "RejectedInputError",
    "RejectedItem",
    "StatusV1",
    "command_username",
    "decode_fixes",
    "decode_message",
    "decode_status",
    "owntracks_http",
    "run_ingest",
]
