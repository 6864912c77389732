"""The task state machine: every path the fan-out takes, and every path it must refuse."""

from __future__ import annotations

import pytest

from dispatcher.domain.tasks import (
    FINAL_STATES,
    TRANSITIONS,
    InvalidTransition,
    TaskEvent,
    TaskState,
    after_send,
    on_deadline,
    retry_delay,
    transition,
)


def test_happy_path_reaches_acked() -> None:
    state = TaskState.PLANNED
    for event in (TaskEvent.CLAIM, TaskEvent.SENT_ALL, TaskEvent.ACKS_COMPLETE):
        state = transition(state, event)
    assert state is TaskState.ACKED


def test_send_error_goes_back_to_planned_then_gives_up() -> None:
    sending = transition(TaskState.PLANNED, TaskEvent.CLAIM)
    assert transition(sending, TaskEvent.SEND_ERROR) is TaskState.PLANNED
    assert transition(sending, TaskEvent.GIVE_UP) is TaskState.FAILED
    assert transition(sending, TaskEvent.GIVE_UP_SOME) is TaskState.SENT


def test_crashed_worker_task_is_recovered_to_planned() -> None:
    assert transition(TaskState.SENDING, TaskEvent.RECOVER) is TaskState.PLANNED


@pytest.mark.parametrize("state", sorted(FINAL_STATES, key=lambda s: s.value))
@pytest.mark.parametrize("event", list(TaskEvent))
def test_final_states_take_no_event(state: TaskState, event: TaskEvent) -> None:
    with pytest.raises(InvalidTransition, match=state.value):
        transition(state, event)


def test_every_non_final_state_can_be_cancelled_and_times_out() -> None:
    for state in set(TaskState) - FINAL_STATES:
        assert transition(state, TaskEvent.CANCEL) is TaskState.CANCELLED
        assert transition(state, TaskEvent.DEADLINE_NONE_ACKED) is TaskState.TIMED_OUT
        assert transition(state, TaskEvent.DEADLINE) is TaskState.PARTIAL


def test_every_state_is_reachable_from_planned() -> None:
    seen = {TaskState.PLANNED}
    frontier = [TaskState.PLANNED]
    while frontier:
        state = frontier.pop()
        for (source, _event), target in TRANSITIONS.items():
            if source is state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(TaskState)


def test_after_send_decides_retry_or_give_up() -> None:
    assert after_send(delivered=3, total=3, attempts=1, max_attempts=3) is TaskEvent.SENT_ALL
    assert after_send(delivered=1, total=3, attempts=1, max_attempts=3) is TaskEvent.SEND_ERROR
    assert after_send(delivered=1, total=3, attempts=3, max_attempts=3) is TaskEvent.GIVE_UP_SOME
    assert after_send(delivered=0, total=3, attempts=3, max_attempts=3) is TaskEvent.GIVE_UP
    assert on_deadline(acked=0) is TaskEvent.DEADLINE_NONE_ACKED
    assert on_deadline(acked=2) is TaskEvent.DEADLINE


def test_retry_delay_grows_and_is_capped() -> None:
    delays = [retry_delay(n, base=1, cap=10) for n in range(1, 8)]
    assert delays[:4] == [1, 2, 4, 8]
    assert max(delays) == 10
