"""Rules over fix batches, events and the clock (pure), and the alert lifecycle."""

from alerts.confirm import Transitions, confirm
from alerts.lifecycle import (
    Action,
    AlertNotFoundError,
    LifecycleError,
    NoteRequiredError,
    WrongStateError,
    act,
    next_state,
)
from alerts.policy import Policies
from alerts.rulebook import Memory, Registry, RuleBook, Verdict
from alerts.separation import metres_apart, separation_findings
from alerts.silence import Silence, Watched, silence_findings
from alerts.status import status_findings
from alerts.zones import zone_findings

__all__ = [
    "Action",
    "AlertNotFoundError",
    "LifecycleError",
    "Memory",
    "NoteRequiredError",
    "Policies",
    "Registry",
    "RuleBook",
    "Silence",
    "Transitions",
    "Verdict",
    "Watched",
    "WrongStateError",
    "act",
    "confirm",
    "metres_apart",
    "next_state",
    "separation_findings",
    "silence_findings",
    "status_findings",
    "zone_findings",
]
