"""The delivery task state machine: one machine per (alert, adapter) task.

    planned --claim--> sending --sent_all--> sent --acks_complete--> acked
       ^                 |--send_error--> planned   (some targets not reached; retry with backoff)
       |                 |--give_up_some--> sent    (attempts spent, some targets reached)
       |                 |--give_up--> failed       (attempts spent, nobody reached)
       '----recover------'                          (a crashed worker's lease expired)
    planned/sending/sent --deadline--> partial (some acked) | timed_out (nothing acked)
    any non-final state --cancel--> cancelled

Every waiting state has a timeout: sending by the claim lease (recover), planned and sent by
the task deadline. Final: acked, partial, failed, timed_out, cancelled.
"""

from __future__ import annotations

from enum import StrEnum


class TaskState(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    ACKED = "acked"
    PARTIAL = "partial"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class TaskEvent(StrEnum):
    CLAIM = "claim"
    SENT_ALL = "sent_all"
    SEND_ERROR = "send_error"
    GIVE_UP_SOME = "give_up_some"
    GIVE_UP = "give_up"
    ACKS_COMPLETE = "acks_complete"
    DEADLINE = "deadline"
    DEADLINE_NONE_ACKED = "deadline_none_acked"
    CANCEL = "cancel"
    RECOVER = "recover"


class InvalidTransition(ValueError):
    code = "invalid-transition"

    def __init__(self, state: TaskState, event: TaskEvent) -> None:
        super().__init__(f"task in state {state.value} cannot take event {event.value}")
        self.state = state
        self.event = event


S, E = TaskState, TaskEvent

TRANSITIONS: dict[tuple[TaskState, TaskEvent], TaskState] = {
    (S.PLANNED, E.CLAIM): S.SENDING,
    (S.SENDING, E.SENT_ALL): S.SENT,
    (S.SENDING, E.SEND_ERROR): S.PLANNED,
    (S.SENDING, E.GIVE_UP_SOME): S.SENT,
    (S.SENDING, E.GIVE_UP): S.FAILED,
    (S.SENDING, E.RECOVER): S.PLANNED,
    (S.SENDING, E.ACKS_COMPLETE): S.ACKED,
    (S.SENT, E.ACKS_COMPLETE): S.ACKED,
}
for _state in (S.PLANNED, S.SENDING, S.SENT):
    TRANSITIONS[(_state, E.DEADLINE)] = S.PARTIAL
    TRANSITIONS[(_state, E.DEADLINE_NONE_ACKED)] = S.TIMED_OUT
    TRANSITIONS[(_state, E.CANCEL)] = S.CANCELLED

FINAL_STATES = frozenset({S.ACKED, S.PARTIAL, S.FAILED, S.TIMED_OUT, S.CANCELLED})
#: Sent tasks wait for acks until their deadline.
AWAITING_ACKS = frozenset({S.SENT})


def transition(state: TaskState, event: TaskEvent) -> TaskState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(state, event) from None


def is_final(state: TaskState) -> bool:
    return state in FINAL_STATES


def retry_delay(attempt: int, *, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped."""
    if attempt < 1:
        return 0.0
    return float(min(cap, base * 2 ** (attempt - 1)))


def after_send(*, delivered: int, total: int, attempts: int, max_attempts: int) -> TaskEvent:
    """The event a send result raises: everyone reached, retry, or stop retrying."""
    if delivered >= total:
        return TaskEvent.SENT_ALL
    if attempts < max_attempts:
        return TaskEvent.SEND_ERROR
    return TaskEvent.GIVE_UP_SOME if delivered > 0 else TaskEvent.GIVE_UP


def on_deadline(*, acked: int) -> TaskEvent:
    return TaskEvent.DEADLINE if acked else TaskEvent.DEADLINE_NONE_ACKED
