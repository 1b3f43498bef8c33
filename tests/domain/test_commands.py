"""What a device's result does to its command, for every kind, state and result."""

from __future__ import annotations

import pytest

from domain import CommandKind, CommandState, after_result

K, S = CommandKind, CommandState
RESULTS = (S.DELIVERED, S.ANSWERED, S.FAILED)


@pytest.mark.parametrize("state", [S.ANSWERED, S.EXPIRED, S.FAILED])
@pytest.mark.parametrize("kind", list(K))
@pytest.mark.parametrize("status", RESULTS)
def test_an_ended_command_is_left_alone(
    kind: CommandKind, state: CommandState, status: CommandState
) -> None:
    assert after_result(kind, state, status) is None


@pytest.mark.parametrize("kind", list(K))
def test_delivered_twice_is_ignored_and_delivered_once_moves_on(kind: CommandKind) -> None:
    assert after_result(kind, S.DELIVERED, S.DELIVERED) is None
    assert after_result(kind, S.SENT, S.DELIVERED) is S.DELIVERED
    assert after_result(kind, S.PENDING, S.DELIVERED) is S.DELIVERED


@pytest.mark.parametrize("state", [S.PENDING, S.SENT, S.DELIVERED])
def test_a_locate_or_check_in_waits_for_its_fix_and_only_set_interval_is_answered_by_word(
    state: CommandState,
) -> None:
    assert after_result(K.LOCATE, state, S.ANSWERED) is S.DELIVERED
    assert after_result(K.CHECK_IN, state, S.ANSWERED) is S.DELIVERED
    assert after_result(K.SET_INTERVAL, state, S.ANSWERED) is S.ANSWERED


@pytest.mark.parametrize("state", [S.PENDING, S.SENT, S.DELIVERED])
def test_a_device_cannot_call_off_its_own_check_in(state: CommandState) -> None:
    assert after_result(K.CHECK_IN, state, S.FAILED) is S.DELIVERED
    assert after_result(K.LOCATE, state, S.FAILED) is S.FAILED
    assert after_result(K.SET_INTERVAL, state, S.FAILED) is S.FAILED
