"""Commands to devices: officers ask as well as wait (NIJ-1004: an on-demand location within
3 minutes of the request)."""

from __future__ import annotations

from enum import StrEnum

from domain.alerts import AlertKind


class CommandKind(StrEnum):
    LOCATE = "locate"  # report a fix now
    SET_INTERVAL = "set_interval"  # report every interval_s until `until` (pursuit), or back
    CHECK_IN = "check_in"  # ask the person to confirm presence; answered with a fix


class CommandState(StrEnum):
    PENDING = "pending"  # issued, not yet handed to the broker
    SENT = "sent"  # the broker has it
    DELIVERED = "delivered"  # the device says it got it
    ANSWERED = "answered"  # done: the device answered (and for locate, a fix arrived)
    EXPIRED = "expired"  # not answered in time
    FAILED = "failed"  # the device (or ccmon) could not carry it out


# Not ended yet: a device's result may still move these on.
LIVE_COMMAND_STATES = frozenset({CommandState.PENDING, CommandState.SENT, CommandState.DELIVERED})


def after_result(
    kind: CommandKind, state: CommandState, status: CommandState
) -> CommandState | None:
    """The state a device's result (`status`: delivered, answered or failed) moves a command
    in `state` to; None when it is ignored (the command has ended, or says delivered again).
    A locate or a check-in the device calls answered stays delivered until its fix arrives;
    a check-in the device says failed stays open too and expires into an alert unless a fix
    and an answer follow in time: a device cannot call off its own check-in."""
    if state not in LIVE_COMMAND_STATES:
        return None
    if status is CommandState.DELIVERED and state is CommandState.DELIVERED:
        return None
    if status is CommandState.ANSWERED and kind in (CommandKind.LOCATE, CommandKind.CHECK_IN):
        return CommandState.DELIVERED
    if status is CommandState.FAILED and kind is CommandKind.CHECK_IN:
        return CommandState.DELIVERED
    return status


# An alert of these kinds opening (an exclusion zone entered, a curfew broken, a strap cut or
# the band removed, SOS) switches the subject's devices to the pursuit rate until it is
# acknowledged (or the level's pursuit_max_s has passed).
PURSUIT_KINDS = frozenset(
    {
        AlertKind.ZONE_ENTRY,
        AlertKind.PROTECTED_PERSON_PROXIMITY,
        AlertKind.CURFEW,
        AlertKind.TAMPER,
        AlertKind.DEVICE_REMOVED,
        AlertKind.SOS,
    }
)
