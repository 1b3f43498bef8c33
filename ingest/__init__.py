"""MQTT subscription, wire formats, validation, quarantine, batching and the pipeline loop."""

from ingest.admission import admit
from ingest.commands import RESULT_TOPIC, CommandChannel, command_username
from ingest.decode import Message, decode_message, decode_messages
from ingest.errors import IngestError, RejectedInputError
from ingest.events import EVENT_TOPIC, EventV1, decode_event
from ingest.http import owntracks_http
from ingest.mqtt import (
    QUEUED_BATCHES,
    BatchConfig,
    MqttConfig,
    collect_batch,
    message_queue,
    run_ingest,
)
from ingest.pipeline import Pipeline, PipelineConfig, PipelineStats
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
    "EVENT_TOPIC",
    "FIX_TOPIC",
    "QUEUED_BATCHES",
    "RESULT_TOPIC",
    "BatchConfig",
    "CommandChannel",
    "Decoded",
    "DecodedFix",
    "EventV1",
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
    "admit",
    "collect_batch",
    "command_username",
    "decode_event",
    "decode_fixes",
    "decode_message",
    "decode_messages",
    "message_queue",
    "owntracks_http",
    "run_ingest",
]
