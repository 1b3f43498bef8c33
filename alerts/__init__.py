"""Rules over fix batches, events and the clock (pure), and the alert lifecycle."""

from alerts import batches, check_ins, nights, notices, places, pursuit, stays
from alerts.clock import Clock
from alerts.confirm import Transitions, confirm
from alerts.delivery import DELIVERED, Channel, DeliveryConfig, DeliveryWorker, Outcome, retry_delay
from alerts.destinations import Destinations
from alerts.device_events import event_findings
from alerts.lifecycle import (
    Action,
    AlertNotFoundError,
    LifecycleError,
    NoteRequiredError,
    WrongStateError,
    act,
    next_state,
)
from alerts.orders import OrderBook
from alerts.policy import Policies
from alerts.proximity import Pairs, ProximityState
from alerts.rulebook import Memory, Registry, RuleBook, Verdict, warm_up
from alerts.separation import separation_findings
from alerts.silence import Silence, Watched, silence_findings
from alerts.sms import SmsChannel, SmsTemplate, message
from alerts.suspect import SuspectPolicy
from alerts.webhooks import WebhookChannel, http_call, signature
from alerts.zones import zone_findings

__all__ = [
    "DELIVERED",
    "Action",
    "AlertNotFoundError",
    "Channel",
    "Clock",
    "DeliveryConfig",
    "DeliveryWorker",
    "Destinations",
    "LifecycleError",
    "Memory",
    "NoteRequiredError",
    "OrderBook",
    "Outcome",
    "Pairs",
    "Policies",
    "ProximityState",
    "Registry",
    "RuleBook",
    "Silence",
    "SmsChannel",
    "SmsTemplate",
    "SuspectPolicy",
    "Transitions",
    "Verdict",
    "Watched",
    "WebhookChannel",
    "WrongStateError",
    "act",
    "batches",
    "check_ins",
    "confirm",
    "event_findings",
    "http_call",
    "message",
    "next_state",
    "nights",
    "notices",
    "places",
    "pursuit",
    "retry_delay",
    "separation_findings",
    "signature",
    "silence_findings",
    "stays",
    "warm_up",
    "zone_findings",
]
